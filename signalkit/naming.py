"""What things are called: receivers, senders, tasks and other callables.

The one place that turns an object into a short, stable, safe name. It never
calls an object's ``__str__`` or ``__repr__``. Recording, the catalog, the
panel, the checks and the Tasks integration all name things through it.
"""

from __future__ import annotations

import difflib
import functools
import weakref
from collections.abc import Callable, Iterable, Sequence
from types import MethodType
from typing import cast

from django.apps import AppConfig
from django.dispatch import dispatcher

# Django's own key for a receiver (and a sender): (id(self), id(func)) for a
# bound method, id(obj) otherwise. Reused rather than copied, so that a
# connection's key and ours always agree.
receiver_key: Callable[[object], object] = dispatcher._make_id  # type: ignore[attr-defined]

__all__ = [
    "callable_name",
    "did_you_mean",
    "object_label",
    "real_receiver",
    "receiver_key",
    "receiver_name",
    "receiver_names",
    "remember",
    "suggestion",
]


def callable_name(obj: object) -> str:
    """Name a callable as ``module.qualname``, without calling it.

    A bound method is named after its function, a ``functools.partial``
    after the function it wraps, and a callable object after its class
    (``module.Class()``).
    """
    if isinstance(obj, functools.partial):
        return f"functools.partial({callable_name(obj.func)})"
    func = getattr(obj, "__func__", obj)
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not isinstance(qualname, str):
        cls = type(obj)
        module, qualname = cls.__module__, f"{cls.__qualname__}()"
    return f"{module}.{qualname}" if module else qualname


_MAX_WRAPPERS = 16


def real_receiver(receiver: object) -> object:
    """The receiver a wrapper stands for.

    sentry-sdk wraps every sync receiver in a new ``functools.wraps``
    function on every send; ``__wrapped__`` leads back to the receiver, so
    names are computed (and cached) once per real receiver, not per send.
    """
    for _ in range(_MAX_WRAPPERS):  # a wrapper that wraps itself ends here
        try:
            inner = vars(receiver).get("__wrapped__")
        except TypeError:  # no __dict__: not a functools.wraps wrapper
            break
        if inner is None:
            break
        receiver = inner
    return receiver


_receiver_names: dict[int, str] = {}


def receiver_name(receiver: object) -> str:
    """:func:`callable_name` of the real receiver, remembered while it lives.

    Recordings name every receiver that runs; this keeps that to a lookup.
    """
    if type(receiver) is MethodType:
        # A bound method is a new object on each send: key on its function.
        key: object = receiver.__func__
    else:
        key = receiver
    name = _receiver_names.get(id(key))
    if name is None:
        real = real_receiver(receiver)
        if real is not receiver:
            return receiver_name(real)
        name = remember(_receiver_names, key, callable_name(receiver))
    return name


def receiver_names(receivers: Sequence[object]) -> list[str]:
    """:func:`receiver_name` of each of *receivers*.

    A receiver named before is found in C, by its id: an id in the table
    belongs to a live object (an entry goes when its object is collected),
    so a receiver with that id is that object. Bound methods and wrappers,
    new on each send, are named by :func:`receiver_name`.
    """
    names = list(map(_receiver_names.get, map(id, receivers)))
    if None in names:
        return [
            receiver_name(receiver) if name is None else name
            for name, receiver in zip(names, receivers, strict=True)
        ]
    return cast("list[str]", names)


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
    """A short label for a sender or other object, never calling its ``__str__``.

    A model class reads as its label (``blog.Post``), another class or a
    function as its dotted name, an app config as ``<AppConfig label>``,
    anything else as ``<module.Class object>``.
    """
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
    if isinstance(obj, AppConfig):
        # The sender of pre_migrate and post_migrate.
        return f"<AppConfig {obj.label}>"
    cls = type(obj)
    return f"<{cls.__module__}.{cls.__qualname__} object>"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for the closest candidates, or ``""``."""
    return suggestion(difflib.get_close_matches(word, list(candidates), n=3))


def suggestion(close: Sequence[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for names already found close, or ``""``."""
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
