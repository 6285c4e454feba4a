"""Read-only views of the receivers connected to a ``django.dispatch.Signal``.

Django stores receivers as ``((receiver_key, sender_key), receiver_or_ref,
[sender_ref,] is_async)``; Django 6.0 added the weak reference to the sender.
Nothing here changes a signal: it only reads ``signal.receivers``.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.dispatch import Signal

from signalkit.naming import callable_name, object_label, receiver_key


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
    # Django 5.2 keeps only id(sender): models are the usual senders, app
    # configs those of pre_migrate and post_migrate.
    if apps.models_ready:
        for candidate in (
            *apps.get_models(include_auto_created=True),
            *apps.get_app_configs(),
        ):
            if id(candidate) == sender_key:
                return object_label(candidate)
    return f"<sender id {sender_key!r}>"


def receiver_infos(signal: Signal) -> list[ReceiverInfo]:
    """Describe every receiver connected to *signal*, in connection order."""
    none_key = receiver_key(None)
    infos = []
    for entry in list(signal.receivers):
        (lookup_key, sender_key), stored, *rest = entry
        sender_ref = rest[0] if len(rest) == 2 else None
        is_async = bool(rest[-1])
        weak = isinstance(stored, weakref.ReferenceType)
        receiver = stored() if weak else stored
        if receiver is None:
            name = "<dead weak reference>"
            dispatch_uid = None
        else:
            name = callable_name(receiver)
            matches_receiver = lookup_key == receiver_key(receiver)
            dispatch_uid = None if matches_receiver else str(lookup_key)
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
