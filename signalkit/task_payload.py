"""The arguments of the background-receiver task, both ways.

:func:`encode` turns one send into the task's JSON arguments in the sending
process (model instances as ``(label, pk)``); :func:`run_in_worker` turns
them back, in the worker, and calls the receiver. Both the sending side
(:mod:`signalkit.background`) and the task (:mod:`signalkit.tasks`) use this
module, which imports neither.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import logging
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from asgiref.sync import async_to_sync
from django.apps import apps
from django.core import serializers
from django.db import models
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import Signal as DjangoSignal
from django.utils.module_loading import import_string

from signalkit.exceptions import (
    BackgroundArgumentError,
    BackgroundReceiverError,
    ObjectGone,
)
from signalkit.naming import object_label
from signalkit.registry import registry

logger = logging.getLogger("signalkit.tasks")


def encode(
    receiver: str, signal: DjangoSignal, sender: Any, named: dict[str, Any]
) -> dict[str, Any]:
    """The task's arguments for one send; raises at once if one can't travel."""
    signal_name = registry.name_of(signal)
    if signal_name is None:
        raise BackgroundReceiverError(
            f"Receiver {receiver} cannot run in the background: its signal "
            f"{object_label(signal)} is not registered with signalkit, so a "
            f"worker cannot find it by name. Declare it with "
            f"signalkit.Signal or call signalkit.registry.register() on it."
        )
    encoder = _Encoder(receiver, signal_name, snapshots=signal in _DELETE_SIGNALS)
    encoded = {name: encoder.value(name, value) for name, value in named.items()}
    text = encoder.to_json(named, encoded)
    return {
        "receiver": receiver,
        "signal": signal_name,
        "sender": encoder.sender(sender),
        "arguments": json.loads(text),
    }


# After these, the row is gone (or about to be): the worker gets the instance
# as it was at the send, through Django's serialisers, not fetched again.
_DELETE_SIGNALS = (pre_delete, post_delete)


# Classes whose values _Encoder sends as they are: JSON's own, and sets.
_PLAIN = (str, int, float, bool, type(None), list, tuple, dict, set, frozenset)


def untravelled(annotation: object) -> list[str]:
    """The names of the classes in *annotation* (a resolved type annotation)
    whose values cannot travel to a background receiver.

    What travels: JSON values, sets, model instances and model classes. An
    annotation that says nothing definite (``Any``, a ``TypeVar``,
    ``object``, a ``Protocol``) is given the benefit of the doubt.
    """
    supertype = getattr(annotation, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return untravelled(supertype)
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return untravelled(arguments[0])
    if origin is Literal:
        return sorted(
            {type(value).__name__ for value in arguments if not _is_json(value)}
        )
    if origin is type:
        classes = get_args(arguments[0]) or arguments
        return sorted(
            {
                f"type[{cls.__name__}]"
                for cls in classes
                if isinstance(cls, type) and not issubclass(cls, models.Model)
            }
        )
    if origin is Union or origin is types.UnionType or origin in _PLAIN:
        # The members of a union, the items of a container.
        return sorted(
            {name for argument in arguments for name in untravelled(argument)}
        )
    if not isinstance(annotation, type) or annotation in (object, Any):
        return []
    if issubclass(annotation, (*_PLAIN, models.Model)):
        return []
    return [annotation.__name__]


def _is_json(value: object) -> bool:
    return value is None or type(value) in (str, int, float, bool)


class _Encoder:
    """Encodes one send's values for *receiver*, naming it in errors."""

    def __init__(self, receiver: str, signal_name: str, *, snapshots: bool) -> None:
        self.receiver = receiver
        self.signal_name = signal_name
        self.snapshots = snapshots

    def fail(self, argument: str, problem: str) -> BackgroundArgumentError:
        return BackgroundArgumentError(
            f"{self.signal_name} cannot send argument {argument!r} to background "
            f"receiver {self.receiver}: {problem}. Background receivers get model "
            f"instances (sent as label and pk) and JSON-serialisable values only."
        )

    def value(self, name: str, value: Any) -> list[Any]:
        if isinstance(value, models.Model):
            if value.pk is None:
                raise self.fail(name, f"the {value._meta.label} instance has no pk yet")
            if self.snapshots:
                [fields] = json.loads(serializers.serialize("json", [value]))
                return ["snapshot", fields]
            # An int stays an int; a UUID or other key travels as its text.
            pk = value.pk if isinstance(value.pk, int) else str(value.pk)
            return ["model", value._meta.label, pk]
        if isinstance(value, type) and issubclass(value, models.Model):
            return ["model_class", value._meta.label]
        if isinstance(value, (set, frozenset)):
            # Such as post_save's update_fields or m2m_changed's pk_set.
            return ["set", list(value)]
        return ["json", value]

    def to_json(self, named: dict[str, Any], encoded: dict[str, list[Any]]) -> str:
        # One argument at a time, so that an error names the argument.
        parts = []
        for name, value in encoded.items():
            try:
                parts.append(f"{json.dumps(name)}: {json.dumps(value)}")
            except (TypeError, ValueError) as error:
                problem = f"{type(named[name]).__name__} value ({error})"
                raise self.fail(name, problem) from error
        return "{" + ", ".join(parts) + "}"

    def sender(self, sender: Any) -> list[Any] | None:
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
        raise self.fail(
            "sender",
            f"{object_label(sender)} is neither None, a model, a module-level "
            f"class or function, nor a JSON value",
        )


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
    if kind == "snapshot":
        [found] = serializers.deserialize("python", [encoded[1]])
        return found.object
    if kind == "model_class":
        return apps.get_model(encoded[1])
    if kind == "set":
        return frozenset(encoded[1])
    return encoded[1]


_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "signalkit_idempotency_key", default=None
)


def idempotency_key() -> str | None:
    """The idempotency key of the background receiver call running now.

    One send to one background receiver has one key, however often the task
    is delivered (a relay that forwards a row again, a worker that dies and
    Celery redelivers): a receiver that records the keys it has done can skip
    a repeat. ``None`` outside a background receiver's task (and for tasks
    enqueued before signalkit gave keys).
    """
    return _key.get()


def run_in_worker(
    receiver: str,
    signal: str,
    sender: list[Any] | None,
    arguments: dict[str, Any],
    key: str | None = None,
) -> dict[str, str] | None:
    """Call the background receiver at *receiver* as the signal would have.

    Model instances are fetched again, except the snapshots of delete
    signals. When one was deleted meanwhile, the receiver is not called: a
    warning is logged and the task succeeds with ``{"skipped": reason}``,
    since running it again could not help. While the receiver runs,
    :func:`idempotency_key` returns *key*.
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
    token = _key.set(key)
    try:
        call(signal=signal_object, sender=_decode_sender(sender), **named)
    finally:
        _key.reset(token)
    return None
