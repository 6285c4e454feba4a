"""The one Django Task that runs every background receiver in a worker.

Workers find it where Django and Celery look for an app's tasks: a Celery
worker imports the ``tasks`` module of each installed app, so this task is
registered there without anyone importing it; RQ and database workers import
it by the dotted path stored with each task, ``signalkit.tasks.run_receiver``.

Importing this module checks the task against the Tasks backends (``@task``
does), so signalkit imports it lazily, at the first enqueue
(:mod:`signalkit.background`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from signalkit.conf import conf
from signalkit.task_payload import run_in_worker

try:
    from django.tasks import task, task_backends
except ImportError:  # Django 5.2: the django-tasks backport.
    from django_tasks import (  # type: ignore[no-redef,assignment]
        task,
        task_backends,
    )

if TYPE_CHECKING:
    from django.tasks import Task


@task(backend=conf.TASKS_BACKEND, queue_name=conf.TASKS_QUEUE_NAME)
def run_receiver(
    receiver: str, signal: str, sender: list[Any] | None, arguments: dict[str, Any]
) -> dict[str, str] | None:
    """Call the background receiver at dotted path *receiver* for one send."""
    return run_in_worker(receiver, signal, sender, arguments)


def task_for(backend: str, queue_name: str, priority: int | None) -> Task[..., Any]:
    """:data:`run_receiver` as a task of *backend*, on *queue_name*.

    Made with *backend*'s own task class: some backends (the Celery ones)
    register the task with their queue when that class is created.
    """
    if backend == run_receiver.backend:
        made = run_receiver
    else:
        made = task(backend=backend, queue_name=queue_name)(run_receiver.func)
    return made.using(queue_name=queue_name, priority=priority)


def register_with_every_backend() -> list[str]:
    """Make :data:`run_receiver` known to every usable backend in ``TASKS``.

    A Celery worker knows only the tasks created in it, and a receiver may
    name a backend of its own (``backend=...``). Backends that cannot be
    loaded are left out: ``signalkit.E012`` reports them. Returns the aliases.
    """
    registered = []
    for alias in getattr(settings, "TASKS", {}):
        try:
            backend = task_backends[alias]
        except (ImportError, ImproperlyConfigured):
            continue
        queues = backend.queues
        queue = (
            conf.TASKS_QUEUE_NAME
            if not queues or conf.TASKS_QUEUE_NAME in queues
            else sorted(queues)[0]
        )
        task_for(alias, queue, None)
        registered.append(alias)
    return registered


register_with_every_backend()
