"""The one Django Task that runs every background receiver in a worker.

Workers find it where Django and Celery look for an app's tasks: a Celery
worker imports the ``tasks`` module of each installed app, so this task is
registered there without anyone importing it; RQ and database workers import
it by the dotted path stored with each task, ``signalkit.tasks.run_receiver``.

Importing this module checks the task against the Tasks backends (``@task``
does), so signalkit imports it lazily, at the first enqueue
(:mod:`signalkit.background`). The import never fails: every Celery worker of
a project with signalkit installed imports it, background receivers or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from signalkit.conf import conf
from signalkit.exceptions import BackgroundReceiverError
from signalkit.task_payload import run_in_worker
from signalkit.tasks_framework import tasks_framework

if TYPE_CHECKING:
    from django.tasks import Task


def run_receiver(
    receiver: str,
    signal: str,
    sender: list[Any] | None,
    arguments: dict[str, Any],
    key: str | None = None,
) -> dict[str, str] | None:
    """Call the background receiver at dotted path *receiver* for one send.

    *key* is the delivery's idempotency key (see
    :func:`signalkit.background.idempotency_key`). Replaced below by the task
    made of it, as ``@task`` would.
    """
    return run_in_worker(receiver, signal, sender, arguments, key)


_FUNCTION = run_receiver


def task_for(backend: str, queue_name: str, priority: int | None) -> Task[..., Any]:
    """:data:`run_receiver` as a task of *backend*, on *queue_name*.

    Made with *backend*'s own task class: some backends (the Celery ones)
    register the task with their queue when that class is created. Raises the
    Tasks framework's errors when *backend* is not configured or refuses the
    queue or priority.
    """
    made = tasks_framework().task(backend=backend, queue_name=queue_name)(_FUNCTION)
    return cast("Task[..., Any]", made.using(priority=priority))


def module_task() -> Task[..., Any] | None:
    """The task workers import: on ``SIGNALKIT_TASKS_BACKEND`` if it can be
    made there, else on the first usable backend in ``TASKS``.

    Workers rebind the task they import to the backend, queue and priority
    stored with each job, so any backend will do; a project whose receivers
    all name a ``backend=`` of their own needs no usable default. ``None``
    when the Tasks framework is not installed or no backend is usable: then
    no process with these settings can enqueue it either (``signalkit.E012``
    says why), and the Celery worker that imported this module with every
    app's tasks must still start.
    """
    made = _tasks_on([conf.TASKS_BACKEND, *getattr(settings, "TASKS", {})])
    return made[0][1] if made else None


def register_with_every_backend() -> list[str]:
    """Make :data:`run_receiver` known to every usable backend in ``TASKS``.

    A Celery worker knows only the tasks created in it, and a receiver may
    name a backend of its own (``backend=...``). Backends that cannot be
    loaded are left out: ``signalkit.E012`` reports them. Returns the aliases.
    """
    return [alias for alias, _ in _tasks_on(getattr(settings, "TASKS", {}))]


def _tasks_on(aliases: Iterable[str]) -> list[tuple[str, Task[..., Any]]]:
    """The task on each of *aliases* that can be made, in order, once each.

    Each goes to ``SIGNALKIT_TASKS_QUEUE_NAME`` when the backend takes it,
    else to the backend's first queue.
    """
    try:
        framework = tasks_framework()
    except BackgroundReceiverError:
        return []
    made = []
    for alias in dict.fromkeys(aliases):
        try:
            queues = framework.task_backends[alias].queues
            queue = (
                conf.TASKS_QUEUE_NAME
                if not queues or conf.TASKS_QUEUE_NAME in queues
                else sorted(queues)[0]
            )
            made.append((alias, task_for(alias, queue, None)))
        except (ImportError, ImproperlyConfigured, framework.exceptions.TaskException):
            continue
    return made


# Without a task (see module_task) the function stays: the module imports.
run_receiver = module_task() or run_receiver  # type: ignore[assignment]
register_with_every_backend()
