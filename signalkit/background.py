"""Background receivers: a receiver that runs as a Django Task, not in-process.

``@receiver(signal, background=True)`` connects a :class:`BackgroundReceiver`
in place of the function. Each send turns the arguments into JSON (model
instances as ``(label, pk)``, see :mod:`signalkit.task_payload`), then
enqueues :data:`signalkit.tasks.run_receiver`, one generic task that a worker
runs with the receiver's dotted path.

Inside a transaction, a backend that keeps its queue in that very database
(django-tasks-db on the same alias) gets the task at once: it is written in
the transaction, so it commits or rolls back with the data (a transactional
outbox). Any other backend gets it when the transaction commits, so a
rollback enqueues nothing.

Importing this module imports nothing of the Tasks framework: ``@task``
checks a task against its backend when its module is imported, so the task
lives in :mod:`signalkit.tasks`, imported at the first enqueue.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import uuid
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NONE_ID, _make_id  # type: ignore[attr-defined]
from django.utils.module_loading import import_string

from signalkit.conf import conf, problem
from signalkit.exceptions import (
    BackgroundArgumentError,
    BackgroundReceiverError,
    ObjectGone,
)
from signalkit.naming import callable_name
from signalkit.registry import registry
from signalkit.signals import Signal
from signalkit.task_payload import encode, idempotency_key, untravelled
from signalkit.tasks_framework import tasks_framework

if TYPE_CHECKING:
    from django.tasks import Task

__all__ = [
    "BackgroundArgumentError",
    "BackgroundReceiver",
    "BackgroundReceiverError",
    "Enqueued",
    "EnqueuedOnCommit",
    "ObjectGone",
    "backend_problems",
    "background_receivers",
    "connect_background",
    "idempotency_key",
]

TASK_OPTIONS = ("queue_name", "priority", "backend", "exclude")

# Apps whose models hold the task queue itself: a background receiver of, say,
# post_save for every sender must not enqueue a task for each saved task row.
QUEUE_APP_LABELS = frozenset({"django_tasks_database", "django_tasks"})


class Enqueued:
    """What a background receiver returns when it has enqueued its task.

    Inside a transaction this happens only when the backend keeps its queue
    in that database: the task becomes visible to workers at COMMIT and is
    gone after a rollback. Recordings and the toolbar panel show it with the status ``"enqueued"``.
    """

    signalkit_status: ClassVar[str] = "enqueued"

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.signalkit_summary = f"task {task_id}"

    def __repr__(self) -> str:
        return f"<Enqueued task {self.task_id}>"


class EnqueuedOnCommit:
    """What a background receiver returns when sent inside a transaction.

    The backend keeps its queue elsewhere (Redis, another database), so the
    task is enqueued when the transaction commits, and never after a
    rollback: there is no task id yet. *key* is the idempotency key the
    receiver will see (:func:`idempotency_key`); for a backend outside the
    database it is the id of the outbox row written inside the transaction.
    """

    signalkit_status: ClassVar[str] = "enqueued"
    signalkit_summary = "on commit"

    def __init__(self, using: str | None, key: str | None = None) -> None:
        self.using = using
        self.key = key

    def __repr__(self) -> str:
        return "<Enqueued on commit>"


def _dotted_path(func: Callable[..., Any]) -> str:
    """Where a worker will import *func* from, or raise naming the problem."""
    name = callable_name(func)
    if isinstance(func, functools.partial):
        problem = "a functools.partial has no dotted path a worker could import"
    elif inspect.ismethod(func):
        problem = "a bound method cannot be imported by a worker"
    elif not inspect.isfunction(func):
        problem = "only functions can be imported by a worker, not other callables"
    elif func.__name__ == "<lambda>":
        problem = "a lambda has no name a worker could import"
    elif "<locals>" in func.__qualname__:
        problem = "a function defined inside another function cannot be imported"
    else:
        return f"{func.__module__}.{func.__qualname__}"
    raise BackgroundReceiverError(
        f"Receiver {name} cannot run in the background: {problem}. Connect a "
        f"function defined at module level instead."
    )


class BackgroundReceiver:
    """Connected in place of a background receiver; enqueues it on each send."""

    def __init__(
        self,
        signal: DjangoSignal,
        func: Callable[..., Any],
        *,
        path: str,
        queue_name: str | None,
        priority: int | None,
        backend: str | None,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        # Named, documented and signature-checked (W001) as the function itself.
        functools.update_wrapper(self, func)
        self.signal = signal
        self.func = func
        self.path = path
        self.queue_name = queue_name
        self.priority = priority
        self.backend = backend
        self.exclude = exclude
        self._importable = False

    def __repr__(self) -> str:
        return f"<BackgroundReceiver {self.path}>"

    @property
    def backend_alias(self) -> str:
        """The Tasks backend this receiver's tasks go to."""
        return self.backend or conf.TASKS_BACKEND

    @property
    def queue(self) -> str:
        """The queue this receiver's tasks go to."""
        return self.queue_name or conf.TASKS_QUEUE_NAME

    def __call__(
        self, signal: DjangoSignal, sender: Any, **named: Any
    ) -> Enqueued | EnqueuedOnCommit | None:
        if _is_queue_model(sender):
            return None
        payload = self.encode(signal, sender, named)
        # Made now, so that a receiver a worker would not find or a backend
        # that is not configured raises at the send, not at the commit.
        task = self.task()
        using = named.get("using")
        using = using if isinstance(using, str) else None
        route = _route(task.backend, using)
        if route == _DIRECT:
            return Enqueued(str(task.enqueue(**payload, key=_new_key()).id))
        if route == _OUTBOX:
            from signalkit import outbox

            row = outbox.write(task, payload, using=using)
            transaction.on_commit(
                _named(
                    functools.partial(outbox.forward, row, task, using=using),
                    f"forward of background receiver {self.path}",
                ),
                using=using,
                robust=True,
            )
            return EnqueuedOnCommit(using, key=str(row.pk))
        key = _new_key()
        # robust: a failing enqueue (the broker is down) is logged and does
        # not stop the on-commit callbacks registered after this one.
        transaction.on_commit(
            _named(
                functools.partial(task.enqueue, **payload, key=key),
                f"enqueue of background receiver {self.path}",
            ),
            using=using,
            robust=True,
        )
        return EnqueuedOnCommit(using, key=key)

    def encode(
        self, signal: DjangoSignal, sender: Any, named: dict[str, Any]
    ) -> dict[str, Any]:
        """The task's arguments for one send, without the excluded ones."""
        if self.exclude:
            named = {
                name: value for name, value in named.items() if name not in self.exclude
            }
        return encode(self.path, signal, sender, named)

    def task(self) -> Task[..., Any]:
        """The task that a send enqueues now, on this receiver's backend and queue.

        Raises :class:`BackgroundReceiverError` when a worker could not import
        the receiver, and the Tasks framework's own error when the backend is
        not configured or refuses the queue or priority.
        """
        self._check_importable()
        return _task(self.backend_alias, self.queue, self.priority)

    def _check_importable(self) -> None:
        # At connect time the receiver's module is still being imported, so
        # whether the worker will find this very function is checked here.
        if self._importable:
            return
        try:
            found = import_string(self.path)
        except ImportError:
            found = None
        if found is not self.func:
            raise BackgroundReceiverError(
                f"Receiver {self.path} cannot run in the background: a worker "
                f"importing {self.path!r} would not find it. Connect it with "
                f"@signalkit.receiver(..., background=True) as the outermost "
                f"decorator of a module-level function."
            )
        self._importable = True


def _new_key() -> str:
    return str(uuid.uuid4())


def _named(callback: functools.partial[Any], name: str) -> Callable[[], Any]:
    """*callback* under *name*: Django logs a failed robust callback by it."""

    def run() -> Any:
        return callback()

    run.__qualname__ = name
    return run


def _is_queue_model(sender: Any) -> bool:
    meta = getattr(sender, "_meta", None)
    return isinstance(sender, type) and getattr(meta, "app_label", None) in (
        QUEUE_APP_LABELS
    )


def connect_background(
    signal: DjangoSignal,
    func: Callable[..., Any],
    *,
    sender: Any = None,
    dispatch_uid: Any = None,
    **task_options: Any,
) -> BackgroundReceiver:
    """Connect *func* to *signal* so that each send enqueues it as a task.

    *task_options* are ``queue_name``, ``priority``, ``backend`` and
    ``exclude`` (argument names the receiver does not get); when left out, ``SIGNALKIT_TASKS_QUEUE_NAME`` and ``SIGNALKIT_TASKS_BACKEND`` apply
    at each send. Raises :class:`BackgroundReceiverError` at once when a
    worker could not import *func* or an option is wrong.
    """
    path = _dotted_path(func)
    unknown = sorted(set(task_options) - set(TASK_OPTIONS))
    if unknown:
        raise BackgroundReceiverError(
            f"Receiver {path} got unknown task options {', '.join(unknown)}; "
            f"background receivers take {', '.join(TASK_OPTIONS)}."
        )
    exclude = _excluded(signal, path, task_options.get("exclude", ()))
    for option in ("queue_name", "backend"):
        value = task_options.get(option)
        if value is not None and (not isinstance(value, str) or not value):
            raise BackgroundReceiverError(
                f"Receiver {path}: {option} must be a non-empty string, not {value!r}."
            )
    priority = task_options.get("priority")
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int)
    ):
        raise BackgroundReceiverError(
            f"Receiver {path}: priority must be an integer, not {priority!r}."
        )
    proxy = BackgroundReceiver(
        signal,
        func,
        path=path,
        queue_name=task_options.get("queue_name"),
        priority=priority,
        backend=task_options.get("backend"),
        exclude=exclude,
    )
    # A worker imports the receiver's module again: the uid keeps that from
    # connecting a second proxy, and the first one stays the one in use.
    uid = dispatch_uid if dispatch_uid is not None else f"signalkit.background:{path}"
    key = (uid, _make_id(sender))
    by_key = _ahead.setdefault(signal, weakref.WeakValueDictionary())
    connected = by_key.get(key)
    if connected is not None and key in _connection_keys(signal):
        return connected
    signal.connect(proxy, sender=sender, weak=False, dispatch_uid=uid)
    by_key[key] = proxy
    check_before_send = getattr(signal, "check_before_send", None)
    if check_before_send is not None:
        check_before_send(_encode_ahead)
    return proxy


# Per signal, the background receivers by the lookup key Django keeps for
# their connection (a disconnected one is neither encoded for nor listed).
# Held weakly: the signal's connection keeps a proxy alive.
_ahead: weakref.WeakKeyDictionary[
    DjangoSignal, weakref.WeakValueDictionary[tuple[Any, Any], BackgroundReceiver]
] = weakref.WeakKeyDictionary()


def _encode_ahead(signal: DjangoSignal, sender: Any, named: dict[str, Any]) -> None:
    """Encode the send for each background receiver that it will reach, before
    any receiver runs: a value that cannot travel fails the send here, not
    after the receivers connected ahead of the background one have run."""
    proxies = _ahead.get(signal)
    if not proxies or _is_queue_model(sender):
        return
    sender_id = _make_id(sender)
    for entry in signal.receivers:
        key = entry[0]
        proxy = proxies.get(key)
        if proxy is not None and key[1] in (NONE_ID, sender_id):
            proxy.encode(signal, sender, named)


def _excluded(signal: DjangoSignal, path: str, exclude: Any) -> frozenset[str]:
    """The argument names of ``exclude=``, checked against what *signal* sends."""
    if isinstance(exclude, str) or not isinstance(
        exclude, (list, tuple, set, frozenset)
    ):
        raise BackgroundReceiverError(
            f"Receiver {path}: exclude must be a tuple of argument names, such "
            f'as exclude=("request",), not {exclude!r}.'
        )
    names = frozenset(exclude)
    bad = sorted(repr(name) for name in names if not isinstance(name, str) or not name)
    if bad:
        raise BackgroundReceiverError(
            f"Receiver {path}: exclude holds {', '.join(bad)}; each item must be "
            f"an argument name."
        )
    entry = registry.get(registry.name_of(signal) or "")
    if entry is not None and entry.declared:
        unknown = sorted(names - set(entry.all_args))
        if unknown:
            raise BackgroundReceiverError(
                f"Receiver {path}: exclude names {', '.join(map(repr, unknown))}, "
                f"which {entry.name} does not send (it sends "
                f"{', '.join(entry.all_args) or 'no arguments'})."
            )
    return names


def background_receivers() -> list[BackgroundReceiver]:
    """Every background receiver connected now, by dotted path."""
    proxies = []
    for signal, by_key in list(_ahead.items()):
        keys = _connection_keys(signal)
        proxies += [proxy for key, proxy in list(by_key.items()) if key in keys]
    return sorted(proxies, key=lambda proxy: proxy.path)


def _connection_keys(signal: DjangoSignal) -> set[Any]:
    # Django keeps each connection as a tuple whose first item is
    # (dispatch uid or receiver id, sender id).
    return {entry[0] for entry in signal.receivers}


def backend_problems() -> list[tuple[BackgroundReceiver, str]]:
    """Background receivers whose Tasks backend or queue is not usable."""
    problems: list[tuple[BackgroundReceiver, str]] = []
    proxies = background_receivers()
    if not proxies:
        return problems
    try:
        framework = tasks_framework()
    except BackgroundReceiverError as error:
        return [(proxy, str(error)) for proxy in proxies]
    for proxy in proxies:
        if (proxy.backend is None and problem("TASKS_BACKEND")) or (
            proxy.queue_name is None and problem("TASKS_QUEUE_NAME")
        ):
            continue  # A bad setting: signalkit.E010/E011 report it.
        alias, queue = proxy.backend_alias, proxy.queue
        try:
            backend = framework.task_backends[alias]
        except (ImportError, ImproperlyConfigured) as error:
            problems.append(
                (proxy, f"its Tasks backend {alias!r} is not usable: {error}")
            )
            continue
        queues = getattr(backend, "queues", None)
        if queues and queue not in queues:
            problems.append(
                (
                    proxy,
                    f"queue {queue!r} is not among the QUEUES of Tasks backend "
                    f"{alias!r} ({', '.join(sorted(queues))})",
                )
            )
        if proxy.priority and not getattr(backend, "supports_priority", False):
            # Such as RQ's: every enqueue would raise (or, on commit, be logged).
            problems.append(
                (
                    proxy,
                    f"priority={proxy.priority} is set, but Tasks backend {alias!r} "
                    f"({type(backend).__name__}) does not support priorities",
                )
            )
    return problems


def untravelled_arguments() -> list[tuple[BackgroundReceiver, str, str, list[str]]]:
    """Background receivers of typed signals that would get an argument whose
    declared type cannot travel to a worker: ``(receiver, argument, its type
    as declared, the classes that cannot travel)``. Arguments left out with
    ``exclude=`` are not counted."""
    found = []
    for proxy in background_receivers():
        signal = proxy.signal
        if not isinstance(signal, Signal):
            continue
        for name, annotation in signal.resolved_annotations().items():
            classes = untravelled(annotation)
            if classes and name not in proxy.exclude:
                found.append((proxy, name, signal.arg_types[name], classes))
    return found


def in_process_receivers() -> list[BackgroundReceiver]:
    """Background receivers whose backend runs each task at once, in the
    sending process (Django's ``ImmediateBackend``, also what Django uses
    when ``TASKS`` is not set): they move nothing off the request."""
    unusable = {id(proxy) for proxy, _ in backend_problems()}
    return [
        proxy
        for proxy in background_receivers()
        if id(proxy) not in unusable
        and not (proxy.backend is None and problem("TASKS_BACKEND"))
        and _runs_in_process(proxy.backend_alias)
    ]


_tasks: dict[tuple[str, str, int | None], Task[..., Any]] = {}


def _task(backend: str, queue_name: str, priority: int | None) -> Task[..., Any]:
    key = (backend, queue_name, priority)
    task = _tasks.get(key)
    if task is None:
        tasks_framework()  # A clear error when the framework is missing.
        from signalkit.tasks import task_for

        task = task_for(backend, queue_name, priority)
        _tasks[key] = task
    return task


# How a send inside a transaction (or not) hands a task to its backend.
_DIRECT = "direct"  # enqueue now: no transaction, or the queue is inside it
_OUTBOX = "outbox"  # a row of signalkit's outbox, forwarded after COMMIT
_ON_COMMIT = "on commit"  # enqueue after COMMIT (no outbox: see _route)


def _route(backend: str, using: str | None) -> str:
    if not transaction.get_connection(using).in_atomic_block or _queue_is_in(
        backend, using
    ):
        return _DIRECT
    # A backend that runs the task in this process has no broker to lose it.
    if not conf.OUTBOX or _runs_in_process(backend):
        return _ON_COMMIT
    return _OUTBOX


_in_process: dict[str, bool] = {}


def _runs_in_process(backend: str) -> bool:
    """Whether *backend* is the Tasks framework's ``ImmediateBackend``."""
    found = _in_process.get(backend)
    if found is None:
        framework = tasks_framework()
        immediate = importlib.import_module(f"{framework.__name__}.backends.immediate")
        found = isinstance(framework.task_backends[backend], immediate.ImmediateBackend)
        _in_process[backend] = found
    return found


_queue_in: dict[tuple[str, str], bool] = {}


def _queue_is_in(backend: str, using: str | None) -> bool:
    """Whether *backend* writes its tasks to the database *using*.

    True for django-tasks-db's ``DatabaseBackend`` when the router sends its
    task table to that database: a task written there inside a transaction
    commits or rolls back with it.
    """
    database = using or DEFAULT_DB_ALIAS
    key = (backend, database)
    found = _queue_in.get(key)
    if found is None:
        found = _database_backend_writes_to(backend, database)
        _queue_in[key] = found
    return found


def _database_backend_writes_to(backend: str, database: str) -> bool:
    # Called with the backend of a task already made, so it is configured.
    instance = tasks_framework().task_backends[backend]
    try:
        from django_tasks_db.backend import DatabaseBackend
    except ImportError:
        return False
    if not isinstance(instance, DatabaseBackend):
        return False
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult) == database


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TASKS", "DATABASES", "DATABASE_ROUTERS") or setting.startswith(
        "SIGNALKIT_TASKS_"
    ):
        _tasks.clear()
        _queue_in.clear()
        _in_process.clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="signalkit.background")
