"""Background receivers: a receiver that runs as a Django Task, not in-process.

``@receiver(signal, background=True)`` connects a :class:`BackgroundReceiver`
in place of the function. Each send turns the arguments into JSON (model
instances as ``(label, pk)``), then enqueues :data:`signalkit.background.run_receiver`,
one generic task that a worker runs with the receiver's dotted path. Inside a
transaction the task is enqueued when the transaction commits, so a rollback
enqueues nothing.

Importing this module imports nothing of the Tasks framework: ``@task``
checks a task against its backend when its module is imported, so the task
lives in :mod:`signalkit.background`, imported at the first enqueue.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import async_to_sync
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models, transaction
from django.dispatch import Signal as DjangoSignal
from django.utils.module_loading import import_string

from signalkit.conf import conf, problem
from signalkit.naming import callable_name, object_label
from signalkit.registry import registry

if TYPE_CHECKING:
    from django.tasks import Task

logger = logging.getLogger("signalkit.tasks")

TASK_OPTIONS = ("queue_name", "priority", "backend")

# Apps whose models hold the task queue itself: a background receiver of, say,
# post_save for every sender must not enqueue a task for each saved task row.
QUEUE_APP_LABELS = frozenset({"django_tasks_database", "django_tasks"})


class BackgroundReceiverError(ImproperlyConfigured):
    """A receiver cannot run in the background as connected.

    A worker imports the receiver by its dotted path, so it must be a function
    defined at module level (not a lambda, a nested function, a bound method
    or a ``functools.partial``), and the Django Tasks framework must be
    installed.
    """


class BackgroundArgumentError(TypeError):
    """A send passed a value that cannot travel to a worker as JSON."""


def tasks_framework() -> ModuleType:
    """``django.tasks`` (Django 6.x), else the ``django_tasks`` backport."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise BackgroundReceiverError(
        "Background receivers need the Django Tasks framework: django.tasks "
        "(Django 6.0+) or, on Django 5.2, the django-tasks backport. Install "
        "django-signalkit[tasks] and configure TASKS."
    )


class Enqueued:
    """What a background receiver returns when it has enqueued its task.

    Recordings and the toolbar panel show it with the status ``"enqueued"``.
    """

    signalkit_status: ClassVar[str] = "enqueued"

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.signalkit_summary = f"task {task_id}"

    def __repr__(self) -> str:
        return f"<Enqueued task {self.task_id}>"


class EnqueuedOnCommit:
    """What a background receiver returns when sent inside a transaction.

    The task is enqueued when the transaction commits, and never after a
    rollback, so there is no task id yet.
    """

    signalkit_status: ClassVar[str] = "enqueued"
    signalkit_summary = "on commit"

    def __init__(self, using: str | None) -> None:
        self.using = using

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
    ) -> None:
        # Named, documented and signature-checked (W001) as the function itself.
        functools.update_wrapper(self, func)
        self.signal = signal
        self.func = func
        self.path = path
        self.queue_name = queue_name
        self.priority = priority
        self.backend = backend
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
        payload = self.payload(signal, sender, named)
        using = named.get("using")
        using = using if isinstance(using, str) else None
        if transaction.get_connection(using).in_atomic_block:
            transaction.on_commit(lambda: self.enqueue(payload), using=using)
            return EnqueuedOnCommit(using)
        return Enqueued(self.enqueue(payload))

    def payload(
        self, signal: DjangoSignal, sender: Any, named: dict[str, Any]
    ) -> dict[str, Any]:
        """The task's arguments for one send; raises at once if one can't travel."""
        signal_name = registry.name_of(signal)
        if signal_name is None:
            raise BackgroundReceiverError(
                f"Receiver {self.path} cannot run in the background: its signal "
                f"{object_label(signal)} is not registered with signalkit, so a "
                f"worker cannot find it by name. Declare it with "
                f"signalkit.Signal or call signalkit.registry.register() on it."
            )
        encoded = {
            name: self._encode(signal_name, name, value)
            for name, value in named.items()
        }
        text = self._to_json(signal_name, named, encoded)
        return {
            "receiver": self.path,
            "signal": signal_name,
            "sender": self._encode_sender(signal_name, sender),
            "arguments": json.loads(text),
        }

    def _fail(
        self, signal_name: str, argument: str, problem: str
    ) -> BackgroundArgumentError:
        return BackgroundArgumentError(
            f"{signal_name} cannot send argument {argument!r} to background "
            f"receiver {self.path}: {problem}. Background receivers get model "
            f"instances (sent as label and pk) and JSON-serialisable values only."
        )

    def _encode(self, signal_name: str, name: str, value: Any) -> list[Any]:
        if isinstance(value, models.Model):
            if value.pk is None:
                raise self._fail(
                    signal_name, name, f"the {value._meta.label} instance has no pk yet"
                )
            # An int stays an int; a UUID or other key travels as its text.
            pk = value.pk if isinstance(value.pk, int) else str(value.pk)
            return ["model", value._meta.label, pk]
        if isinstance(value, type) and issubclass(value, models.Model):
            return ["model_class", value._meta.label]
        if isinstance(value, (set, frozenset)):
            # Such as post_save's update_fields or m2m_changed's pk_set.
            return ["set", list(value)]
        return ["json", value]

    def _to_json(
        self, signal_name: str, named: dict[str, Any], encoded: dict[str, list[Any]]
    ) -> str:
        # One argument at a time, so that an error names the argument.
        parts = []
        for name, value in encoded.items():
            try:
                parts.append(f"{json.dumps(name)}: {json.dumps(value)}")
            except (TypeError, ValueError) as error:
                problem = f"{type(named[name]).__name__} value ({error})"
                raise self._fail(signal_name, name, problem) from error
        return "{" + ", ".join(parts) + "}"

    def _encode_sender(self, signal_name: str, sender: Any) -> list[Any] | None:
        if sender is None:
            return None
        if isinstance(sender, type) and issubclass(sender, models.Model):
            return ["model", sender._meta.label]
        if isinstance(sender, (str, int, float, bool)):
            return ["json", sender]
        qualname = getattr(sender, "__qualname__", None)
        module = getattr(sender, "__module__", None)
        if (
            (inspect.isclass(sender) or inspect.isfunction(sender))
            and isinstance(qualname, str)
            and isinstance(module, str)
            and "<" not in qualname
        ):
            return ["path", f"{module}.{qualname}"]
        raise self._fail(
            signal_name,
            "sender",
            f"{object_label(sender)} is neither None, a model, a module-level "
            f"class or function, nor a JSON value",
        )

    def enqueue(self, payload: dict[str, Any]) -> str:
        """Enqueue the task for one send and return the task's id."""
        self._check_importable()
        result = _task(self.backend_alias, self.queue, self.priority).enqueue(**payload)
        return str(result.id)

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


def _is_queue_model(sender: Any) -> bool:
    meta = getattr(sender, "_meta", None)
    return isinstance(sender, type) and getattr(meta, "app_label", None) in (
        QUEUE_APP_LABELS
    )


_connected: weakref.WeakSet[BackgroundReceiver] = weakref.WeakSet()


def connect_background(
    signal: DjangoSignal,
    func: Callable[..., Any],
    *,
    sender: Any = None,
    dispatch_uid: Any = None,
    **task_options: Any,
) -> BackgroundReceiver:
    """Connect *func* to *signal* so that each send enqueues it as a task.

    *task_options* are ``queue_name``, ``priority`` and ``backend``; when left
    out, ``SIGNALKIT_TASKS_QUEUE_NAME`` and ``SIGNALKIT_TASKS_BACKEND`` apply
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
    )
    # A worker imports the receiver's module again: the uid keeps that from
    # connecting a second proxy.
    uid = dispatch_uid if dispatch_uid is not None else f"signalkit.background:{path}"
    signal.connect(proxy, sender=sender, weak=False, dispatch_uid=uid)
    _connected.add(proxy)
    return proxy


def background_receivers() -> list[BackgroundReceiver]:
    """Every background receiver connected so far, by dotted path."""
    return sorted(_connected, key=lambda proxy: proxy.path)


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
    return problems


_tasks: dict[tuple[str, str, int | None], Task[..., Any]] = {}


def _task(backend: str, queue_name: str, priority: int | None) -> Task[..., Any]:
    key = (backend, queue_name, priority)
    task = _tasks.get(key)
    if task is None:
        tasks_framework()  # A clear error when the framework is missing.
        from signalkit.background import run_receiver

        task = run_receiver.using(
            backend=backend, queue_name=queue_name, priority=priority
        )
        _tasks[key] = task
    return task


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "TASKS" or setting.startswith("SIGNALKIT_TASKS_"):
        _tasks.clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="signalkit.tasks")


class ObjectGone(LookupError):
    """A model instance sent to a background receiver was deleted meanwhile."""


def _decode_sender(sender: list[Any] | None) -> Any:
    if sender is None:
        return None
    kind, value = sender
    if kind == "model":
        return apps.get_model(value)
    if kind == "path":
        return import_string(value)
    return value


def _decode(name: str, encoded: list[Any]) -> Any:
    kind = encoded[0]
    if kind == "model":
        model = apps.get_model(encoded[1])
        try:
            return model._base_manager.get(pk=encoded[2])
        except model.DoesNotExist:
            raise ObjectGone(
                f"argument {name!r}: {encoded[1]} with pk {encoded[2]!r} no "
                f"longer exists"
            ) from None
    if kind == "model_class":
        return apps.get_model(encoded[1])
    if kind == "set":
        return frozenset(encoded[1])
    return encoded[1]


def run_in_worker(
    receiver: str, signal: str, sender: list[Any] | None, arguments: dict[str, Any]
) -> dict[str, str] | None:
    """Call the background receiver at *receiver* as the signal would have.

    Model instances are fetched again. When one was deleted meanwhile, the
    receiver is not called: a warning is logged and the task succeeds with
    ``{"skipped": reason}``, since running it again could not help.
    """
    func = import_string(receiver)
    signal_object = registry[signal].signal
    try:
        named = {name: _decode(name, value) for name, value in arguments.items()}
    except ObjectGone as gone:
        reason = f"{signal} -> {receiver} skipped: {gone}"
        logger.warning("Background receiver %s", reason)
        return {"skipped": reason}
    call = async_to_sync(func) if inspect.iscoroutinefunction(func) else func
    call(signal=signal_object, sender=_decode_sender(sender), **named)
    return None
