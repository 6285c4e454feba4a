"""The one Django Task that runs every background receiver in a worker.

Import it lazily (signalkit does, at the first enqueue): ``@task`` checks the
task against the Tasks backend when this module is imported. A worker imports
it as ``signalkit.background.run_receiver``, the path stored with each task.
"""

from __future__ import annotations

from typing import Any

from signalkit.conf import conf
from signalkit.tasks import run_in_worker

try:
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport.
    from django_tasks import task  # type: ignore[no-redef]


@task(backend=conf.TASKS_BACKEND, queue_name=conf.TASKS_QUEUE_NAME)
def run_receiver(
    receiver: str, signal: str, sender: list[Any] | None, arguments: dict[str, Any]
) -> dict[str, str] | None:
    """Call the background receiver at dotted path *receiver* for one send."""
    return run_in_worker(receiver, signal, sender, arguments)
