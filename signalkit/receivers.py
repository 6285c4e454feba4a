"""Read-only views of the receivers connected to a ``django.dispatch.Signal``.

Django stores receivers as ``((receiver_key, sender_key), receiver_or_ref,
[sender_ref,] is_async)``; Django 6.0 added the weak reference to the sender.
Nothing here changes a signal: it only reads ``signal.receivers``.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import MethodType
from typing import Any

from django.apps import apps
from django.dispatch import Signal


def callable_name(obj: object) -> str:
    """Name a receiver as ``module.qualname``, without calling it."""
    if isinstance(obj, functools.partial):
        return f"functools.partial({callable_name(obj.func)})"
    func = getattr(obj, "__func__", obj)  # bound methods name their function
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not isinstance(qualname, str):
        # A callable object: name its class.
        cls = type(obj)
        module, qualname = cls.__module__, f"{cls.__qualname__}()"
    return f"{module}.{qualname}" if module else qualname


_receiver_names: dict[int, str] = {}


def receiver_name(receiver: object) -> str:
    """:func:`callable_name`, remembered for each function while it lives.

    Recordings name every receiver that runs; this keeps that to a lookup.
    """
    # A bound method is a new object on each send: key on its function.
    key = receiver.__func__ if type(receiver) is MethodType else receiver
    name = _receiver_names.get(id(key))
    if name is None:
        name = remember(_receiver_names, key, callable_name(receiver))
    return name


def remember(labels: dict[int, str], obj: object, label: str) -> str:
    """Store *label* in *labels* under ``id(obj)`` until *obj* is collected.

    Objects that cannot be weakly referenced are not stored, since their id
    could be reused by another object.
    """
    try:
        weakref.finalize(obj, labels.pop, id(obj), None)
    except TypeError:
        return label
    labels[id(obj)] = label
    return label


def object_label(obj: object) -> str:
    """A short label for a sender or other object, never calling its ``__str__``."""
    if obj is None:
        return "None"
    if isinstance(obj, type):
        meta = getattr(obj, "_meta", None)
        label = getattr(meta, "label", None)
        if isinstance(label, str):
            return label
        return f"{obj.__module__}.{obj.__qualname__}"
    if callable(obj) and hasattr(obj, "__qualname__"):
        return callable_name(obj)
    cls = type(obj)
    return f"<{cls.__module__}.{cls.__qualname__} object>"


@dataclass(frozen=True)
class ReceiverInfo:
    """One connection of a receiver to a signal."""

    name: str
    """``module.qualname`` of the receiver, or ``"<dead weak reference>"``."""
    receiver: Callable[..., Any] | None
    """The receiver itself, or ``None`` when its weak reference is dead."""
    sender: str | None
    """Label of the sender it is limited to (``None`` for any sender)."""
    dispatch_uid: str | None
    weak: bool
    is_async: bool

    @property
    def dead(self) -> bool:
        return self.receiver is None


def _sender_label(sender_key: object, sender_ref: object) -> str:
    sender = sender_ref() if isinstance(sender_ref, weakref.ReferenceType) else None
    if sender is not None:  # pragma: no cover  (Django 6.0+ keeps a weak ref)
        return object_label(sender)
    # Django 5.2 keeps only id(sender); models are the usual senders.
    if apps.models_ready:
        for model in apps.get_models(include_auto_created=True):
            if id(model) == sender_key:
                return object_label(model)
    return f"<sender id {sender_key!r}>"


def _receiver_key(receiver: object) -> object:
    if hasattr(receiver, "__self__") and hasattr(receiver, "__func__"):
        return (id(receiver.__self__), id(receiver.__func__))
    return id(receiver)


def receiver_infos(signal: Signal) -> list[ReceiverInfo]:
    """Describe every receiver connected to *signal*, in connection order."""
    none_key = _receiver_key(None)
    infos = []
    for entry in list(signal.receivers):
        (receiver_key, sender_key), stored, *rest = entry
        sender_ref = rest[0] if len(rest) == 2 else None
        is_async = bool(rest[-1])
        weak = isinstance(stored, weakref.ReferenceType)
        receiver = stored() if weak else stored
        if receiver is None:
            name = "<dead weak reference>"
            dispatch_uid = None
        else:
            name = callable_name(receiver)
            matches_receiver = receiver_key == _receiver_key(receiver)
            dispatch_uid = None if matches_receiver else str(receiver_key)
        infos.append(
            ReceiverInfo(
                name=name,
                receiver=receiver,
                sender=None
                if sender_key == none_key
                else _sender_label(sender_key, sender_ref),
                dispatch_uid=dispatch_uid,
                weak=weak,
                is_async=is_async,
            )
        )
    return infos


def accepts_kwargs(func: Callable[..., Any]) -> bool | None:
    """Whether *func* takes ``**kwargs``; ``None`` when its signature is unknown."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    )
