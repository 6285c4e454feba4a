"""The patch's life cycle: ``django.dispatch.Signal`` gets the pipeline's
methods while any observer or mute is active, and its own back after.

When the last observer and mute end, each hooked attribute that still holds
our function gets back what it held before (Django's own method, unless
someone patched it before us); an attribute another library (sentry-sdk)
patched on top of ours is left alone, and ours, still called by theirs,
passes every send straight through while nothing observes. On Python 3.13+
that happens :data:`RESTORES` times; after that ours stay in place, passing
sends through the same way (see the comment above :data:`RESTORES`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from types import CodeType
from typing import Any

from django.dispatch import Signal as DjangoSignal

from signalkit.fingerprints import is_djangos
from signalkit.pipeline import loops
from signalkit.pipeline.dispatch import PATCHES
from signalkit.pipeline.loops import original, own_loop
from signalkit.pipeline.observers import Observer
from signalkit.pipeline.scopes import Mute, Scope, add_wide, context, remove_wide

_users = 0


_patch_lock = threading.Lock()


def _acquire() -> None:
    global _users
    with _patch_lock:
        if _users == 0:
            changed = False
            for name, ours in PATCHES.items():
                current = DjangoSignal.__dict__[name]
                if current is ours or name in _stranded:
                    continue  # still in place, or still called by a later patch
                if original.get(name) is not current:
                    original[name] = current
                    if name in own_loop:
                        own_loop[name] = is_djangos(current, name)
                    changed = True
                setattr(DjangoSignal, name, ours)
            if changed:
                loops.replaced_codes = _codes_calling_live_receivers()
        _users += 1


def _codes_calling_live_receivers() -> dict[int, CodeType]:
    # Where the calls of our _live_receivers come from, now (see
    # loops._send_to_wrap()).
    methods = ("send", "send_robust", "asend", "asend_robust", "has_listeners")
    functions = (original.get(name, DjangoSignal.__dict__[name]) for name in methods)
    return {
        id(code): code
        for function in functions
        if (code := getattr(function, "__code__", None)) is not None
    }


# Python 3.13+ gives a class at most 1,000 version tags (one for each change
# a lookup then sees) and past that never caches lookups on it or its
# subclasses again: every send() and has_listeners() about 30% slower for the
# rest of the process. Patching costs one tag, giving Django's methods back
# another: after this many restores ours stay, passing sends straight to
# Django's while nothing observes.
RESTORES = 200 if sys.version_info >= (3, 13) else sys.maxsize

_restores_left = RESTORES


# Attributes another library patched on top of ours: theirs calls ours, so
# ours stays in their chain and is not installed a second time.
_stranded: set[str] = set()


def _release() -> None:
    global _users, _restores_left
    with _patch_lock:
        _users -= 1
        if _users == 0 and _restores_left:
            _restores_left -= 1
            for name, ours in PATCHES.items():
                if name in _stranded:
                    continue
                if DjangoSignal.__dict__[name] is ours:
                    setattr(DjangoSignal, name, original[name])
                else:
                    _stranded.add(name)


def is_patched() -> bool:
    """Whether ``django.dispatch.Signal.send`` currently runs the pipeline."""
    return DjangoSignal.__dict__["send"] is PATCHES["send"]


def observing(observer: Observer) -> AbstractContextManager[None]:
    """Hand the sends of the current thread or asyncio context to *observer*.

    It sees exactly the sends made in this context (tasks made in it
    included) until the block ends.
    """
    return _InScope(observer, None)


def muting(
    signals: frozenset[DjangoSignal],
    *,
    sender: Any = None,
    receivers: Iterable[Callable[..., Any]] | None = None,
) -> AbstractContextManager[None]:
    """Stop the receivers of *signals* from running in this context only.

    Only for sends by *sender* when it is given (``None``: every sender, as
    in Django's ``connect()``); only *receivers* when they are given, the
    others running in their order, as if those were not connected.

    A muted send still reaches the observers, with :attr:`Send.muted` set;
    one whose receivers a mute skipped, with :attr:`Send.muted_receivers`.
    """
    return _InScope(None, Mute(signals, sender, receivers))


class _InScope(AbstractContextManager[None]):
    # One block of observing() or muting(): a class, not a generator, as
    # record() is entered once per request of the panel.

    __slots__ = ("_muted", "_observer", "_scope", "_token")

    def __init__(self, observer: Observer | None, muted: Mute | None) -> None:
        self._observer = observer
        self._muted = muted

    def __enter__(self) -> None:
        scope = self._scope = Scope(context.get(), self._observer, self._muted)
        self._token = context.set(scope)
        _acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._scope.end()
        try:
            # Raises when left in another context than it was entered in.
            context.reset(self._token)
        finally:
            _release()


def add_observer(observer: Observer) -> None:
    """Hand every send, in every thread, to *observer* until it is removed."""
    _acquire()
    with _patch_lock:
        add_wide(observer)


def remove_observer(observer: Observer) -> None:
    """Stop handing sends to *observer*, added by :func:`add_observer`."""
    with _patch_lock:
        remove_wide(observer)
    _release()
