"""The send-event pipeline: the one place that hooks ``django.dispatch``.

While an observer or a mute is active anywhere in the process, the send
methods and ``_live_receivers`` of ``django.dispatch.Signal`` are replaced by
the functions here (each marked with ``_signalkit_pipeline``). A send then
produces events for the observers active for it:

* :meth:`Observer.send_started` before Django looks up the receivers; an
  observer returns a :class:`SendObserver` for the rest of that send, or
  ``None`` to ignore it;
* :meth:`SendObserver.receiver_started` and
  :meth:`SendObserver.receiver_finished` around each receiver, in the thread
  or asyncio task the receiver runs in;
* :meth:`SendObserver.send_finished` when Django's method returns or raises.

Django's own method runs every send; each receiver is wrapped for that send
only, and the wrappers are taken out of the value it returns, so callers see
exactly what Django returns. Observers are either *context* observers
(:func:`observing`, active in the current thread or asyncio context, as
``record()`` is) or *process-wide* ones (:func:`add_observer`, seeing every
send in every thread, as a tracer does).

When the last observer and mute end, each hooked attribute that still holds
our function gets back what it held before (Django's own method, unless
someone patched it before us); an attribute another library (sentry-sdk)
patched on top of ours is left alone, and ours, still called by theirs,
passes every send straight through while nothing observes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import CodeType, FrameType, FunctionType
from typing import Any, cast

import django
from django.dispatch import Signal as DjangoSignal

from signalkit.naming import receiver_name, remember
from signalkit.registry import registry


class Observer:
    """Something that wants to see signal sends (the recorder, a tracer)."""

    def send_started(self, send: Send) -> SendObserver | None:
        """A send starts, before its receivers are looked up.

        Return an object that gets this send's further events, or ``None`` to
        ignore the send. Called in the thread and context of the sender.
        """
        return None


class SendObserver:
    """Gets the events of one send that an :class:`Observer` accepted."""

    def receiver_started(self, index: int, receiver: Receiver) -> None:
        """Receiver number *index* (its place in Django's responses) starts.

        Called in the thread or asyncio task the receiver runs in, right
        before it runs. Django 6.1 runs the async receivers of one send
        concurrently, each in its own task.
        """

    def receiver_finished(
        self, index: int, result: Any, error: BaseException | None
    ) -> None:
        """Receiver number *index* returned *result* or raised *error*.

        Called in the same thread or task as :meth:`receiver_started`.
        """

    def send_finished(self, error: BaseException | None) -> None:
        """The send returned, or raised *error*."""


# Frames in these directories are not a send's "site".
_INTERNAL_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (django, asyncio, sys.modules[__name__.rpartition(".")[0]])
    if module.__file__
)
_internal_files: dict[str, bool] = {}


def _is_internal(filename: str) -> bool:
    skip = _internal_files.get(filename)
    if skip is None:
        skip = _internal_files[filename] = (
            filename.startswith(_INTERNAL_DIRS) or "asgiref" in filename
        )
    return skip


def signal_label(signal: DjangoSignal) -> str:
    """The registry name of *signal*, or a description of an unregistered one."""
    name = registry.name_of(signal) or _unregistered_labels.get(id(signal))
    if name is not None:
        return name
    label = getattr(signal, "_label", None)
    if callable(label):
        return str(label())  # an unnamed signalkit.Signal: not for long
    cls = type(signal)
    label = f"<{cls.__module__}.{cls.__qualname__} at {id(signal):#x}>"
    return remember(_unregistered_labels, signal, label)


_unregistered_labels: dict[int, str] = {}


class Send:
    """One send of a signal, as the pipeline hands it to observers.

    It holds the signal, sender and arguments only while the send runs: an
    observer that keeps anything after :meth:`SendObserver.send_finished`
    must copy or summarise it.
    """

    __slots__ = (
        "_code",
        "_frame",
        "_line",
        "method",
        "muted",
        "muted_receivers",
        "named",
        "observed",
        "parent",
        "parent_index",
        "ran",
        "sender",
        "signal",
        "started_ns",
    )

    signal: DjangoSignal
    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    sender: Any
    named: dict[str, Any]
    """The keyword arguments of the send."""
    started_ns: int
    """``time.perf_counter_ns()`` when the send started."""
    parent: Send | None
    """The send whose receiver made this send, in this thread or task."""
    parent_index: int
    """The index of that receiver in the parent's responses."""
    muted: bool
    """Whether a mute stops this send's receivers from running."""
    muted_receivers: list[str]
    """Names of the receivers a mute stopped."""
    observed: tuple[tuple[Observer, SendObserver], ...]
    ran: int
    """How many receivers have started."""

    def __init__(
        self,
        signal: DjangoSignal,
        method: str,
        sender: Any,
        named: dict[str, Any],
        muted: bool,
        frame: FrameType | None,
    ) -> None:
        self.signal = signal
        self.method = method
        self.sender = sender
        self.named = named
        self.muted = muted
        self.muted_receivers = []
        self.observed = ()
        self.ran = 0
        self._frame = frame
        self._code: CodeType | None = None
        self._line = 0
        running = _running.get(_here())
        if running is None:
            self.parent, self.parent_index = None, 0
        else:
            self.parent, self.parent_index = running
        self.started_ns = time.perf_counter_ns()

    @property
    def signal_name(self) -> str:
        """The registry name of the signal, or a label for an unregistered one."""
        return signal_label(self.signal)

    @property
    def depth(self) -> int:
        """How many sends this one is nested in."""
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth

    def keep_site(self) -> tuple[CodeType, int] | None:
        """Where the send was made, as a code object and a line number.

        Observers that want the site after the send call this in
        :meth:`Observer.send_started` and format it when read (see
        :attr:`site`); no frame is kept.
        """
        frame = self._frame
        if frame is not None:
            self._frame = None
            while frame is not None and _is_internal(frame.f_code.co_filename):
                frame = frame.f_back
            if frame is not None:
                self._code, self._line = frame.f_code, frame.f_lineno
        return None if self._code is None else (self._code, self._line)

    @property
    def site(self) -> str:
        """``file:line`` of the first frame outside Django and signalkit."""
        site = self.keep_site()
        return "<unknown>" if site is None else f"{site[0].co_filename}:{site[1]}"

    def _release(self) -> None:
        # Nothing of the send outlives it here (observers copy what they keep).
        self.sender = self.named = self._frame = None  # type: ignore[assignment]


# What runs where: the send and receiver index of the receiver running in
# each asyncio task, or (outside an event loop) each thread. Django 6.1 runs
# the async receivers of one send concurrently in one shared context, so a
# context variable could not tell them apart.
_running: dict[object, tuple[Send, int]] = {}
_get_running_loop = asyncio._get_running_loop
_current_task = asyncio.current_task
_get_ident = threading.get_ident


def _here() -> object:
    loop = _get_running_loop()
    if loop is not None:
        task = _current_task(loop)
        if task is not None:
            return task
    return _get_ident()


class Receiver:
    # A receiver wrapped for one observed send (sync receivers). Not a
    # docstring: instances answer __doc__ as the receiver does.

    __slots__ = ("_send", "func", "index")

    is_async = False

    def __init__(self, func: Callable[..., Any], send: Send, index: int) -> None:
        self.func = func
        """The receiver itself."""
        self.index = index
        self._send = send

    @property
    def name(self) -> str:
        """``module.qualname`` of the receiver (under sentry-sdk's wrapper too)."""
        return receiver_name(self.func)

    def __getattr__(self, name: str) -> Any:
        # send_robust() logs receiver.__qualname__, and a patch above ours
        # (sentry-sdk's) names and wraps what it gets: answer as the receiver.
        return getattr(self.func, name)

    # Found on the class, so __getattr__ would not answer for these.
    @property
    def __module__(self) -> str:  # type: ignore[override]
        return self.func.__module__

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self.func.__doc__

    def _enter(self) -> tuple[object, tuple[Send, int] | None]:
        send, index = self._send, self.index
        key = _here()
        previous = _running.get(key)
        _running[key] = (send, index)
        send.ran += 1
        for _, observer in send.observed:
            observer.receiver_started(index, self)
        return key, previous

    def _exit(
        self,
        key: object,
        previous: tuple[Send, int] | None,
        result: Any,
        error: BaseException | None,
    ) -> None:
        if previous is None:
            _running.pop(key, None)
        else:
            _running[key] = previous
        for _, observer in self._send.observed:
            observer.receiver_finished(self.index, result, error)

    def __call__(self, **kwargs: Any) -> Any:
        # _enter() and _exit() written out: this runs for every receiver of
        # every observed send.
        send, index = self._send, self.index
        loop = _get_running_loop()
        key = (
            _get_ident()
            if loop is None
            else (_current_task(loop) or _get_ident())  # a loop callback: no task
        )
        previous = _running.get(key)
        _running[key] = (send, index)
        send.ran += 1
        observed = send.observed
        for _, observer in observed:
            observer.receiver_started(index, self)
        try:
            result = self.func(**kwargs)
        except BaseException as error:
            self._exit(key, previous, None, error)
            raise
        if previous is None:
            del _running[key]
        else:
            _running[key] = previous
        for _, observer in observed:
            observer.receiver_finished(index, result, None)
        return result


class AsyncReceiver(Receiver):
    # An async receiver wrapped for one observed send.

    __slots__ = ()

    is_async = True

    async def __call__(self, **kwargs: Any) -> Any:
        key, previous = self._enter()
        try:
            result = await self.func(**kwargs)
        except BaseException as error:
            self._exit(key, previous, None, error)
            raise
        self._exit(key, previous, result, None)
        return result


_WRAPPERS = (Receiver, AsyncReceiver)


def _unwrap(responses: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    unwrapped = []
    for receiver, response in responses:
        if type(receiver) in _WRAPPERS:
            receiver = receiver.func
        elif type(receiver) is FunctionType:
            # A patch above ours (sentry-sdk's) wrapped our wrapper with
            # functools.wraps for this send only: point it at the receiver,
            # as it would be without us.
            inner = receiver.__dict__.get("__wrapped__")
            if type(inner) in _WRAPPERS:
                receiver.__wrapped__ = cast(Receiver, inner).func  # type: ignore[attr-defined]
        unwrapped.append((receiver, response))
    return unwrapped


# Observers and mutes of the current context: (observers, muted signals).
_context: ContextVar[tuple[tuple[Observer, ...], frozenset[DjangoSignal]] | None] = (
    ContextVar("signalkit_pipeline", default=None)
)
_process_observers: tuple[Observer, ...] = ()


# The send whose receivers the next _live_receivers() call in this thread
# wraps: Django calls it synchronously, before any await, right after our
# method calls Django's.
class _Pending(threading.local):
    send: Send | None = None


_pending = _Pending()

# What each hooked attribute held before we patched it.
_original: dict[str, Any] = {}


def _start(
    signal: DjangoSignal, method: str, sender: Any, named: dict[str, Any]
) -> Send | None:
    """The observed send, or ``None`` when nothing observes or mutes it."""
    state = _context.get()
    observers = _process_observers
    muted = False
    if state is not None:
        observers = observers + state[0]
        muted = signal in state[1]
    if not observers and not muted:
        return None
    send = Send(signal, method, sender, named, muted, sys._getframe(2))
    observed = []
    for observer in observers:
        send_observer = observer.send_started(send)
        if send_observer is not None:
            observed.append((observer, send_observer))
    if not observed and not muted:
        return None
    send.observed = tuple(observed)
    return send


def _finish(send: Send, error: BaseException | None) -> None:
    for _, observer in send.observed:
        observer.send_finished(error)
    send._release()


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = _original["_live_receivers"](self, sender)
    send = _pending.send
    if send is None or send.signal is not self:
        # has_listeners() asks here too: a muted signal has none.
        state = _context.get()
        if state is not None and self in state[1]:
            return [], []
        return sync_receivers, async_receivers
    _pending.send = None
    if send.muted:
        send.muted_receivers = [
            receiver_name(r) for r in (*sync_receivers, *async_receivers)
        ]
        return [], []
    count = len(sync_receivers)
    return (
        [Receiver(r, send, index) for index, r in enumerate(sync_receivers)],
        [
            AsyncReceiver(r, send, count + index)
            for index, r in enumerate(async_receivers)
        ],
    )


def _make_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    def patched(self: DjangoSignal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        send = _start(self, method, sender, named)
        if send is None:
            return _original[method](self, sender, **named)  # type: ignore[no-any-return]
        # A subclass's _live_receivers may send another signal before it
        # calls ours: that send puts back the pending send it found.
        previous, _pending.send = _pending.send, send
        try:
            responses = _original[method](self, sender, **named)
        except BaseException as error:
            _finish(send, error)
            raise
        finally:
            if _pending.send is send:  # Django returned before looking
                _pending.send = previous
        _finish(send, None)
        return _unwrap(responses)

    patched.__name__ = patched.__qualname__ = method
    return patched


def _make_async(method: str) -> Callable[..., Awaitable[list[tuple[Any, Any]]]]:
    async def patched(
        self: DjangoSignal, sender: Any, **named: Any
    ) -> list[tuple[Any, Any]]:
        send = _start(self, method, sender, named)
        if send is None:
            return await _original[method](self, sender, **named)  # type: ignore[no-any-return]
        previous, _pending.send = _pending.send, send
        try:
            responses = await _original[method](self, sender, **named)
        except BaseException as error:
            _finish(send, error)
            raise
        finally:
            if _pending.send is send:
                _pending.send = previous
        _finish(send, None)
        return _unwrap(responses)

    patched.__name__ = patched.__qualname__ = method
    return patched


_PATCHES: dict[str, Any] = {
    "send": _make_sync("send"),
    "send_robust": _make_sync("send_robust"),
    "asend": _make_async("asend"),
    "asend_robust": _make_async("asend_robust"),
    "_live_receivers": _live_receivers,
}
for _function in _PATCHES.values():
    # Like the toolbar's _djdt_cursor: says whose function this is.
    _function._signalkit_pipeline = True

_users = 0
_patch_lock = threading.Lock()


def _acquire() -> None:
    global _users
    with _patch_lock:
        if _users == 0:
            for name, ours in _PATCHES.items():
                current = DjangoSignal.__dict__[name]
                if current is ours or name in _stranded:
                    continue  # still in place, or still called by a later patch
                _original[name] = current
                setattr(DjangoSignal, name, ours)
        _users += 1


# Attributes another library patched on top of ours: theirs calls ours, so
# ours stays in their chain and is not installed a second time.
_stranded: set[str] = set()


def _release() -> None:
    global _users
    with _patch_lock:
        _users -= 1
        if _users == 0:
            for name, ours in _PATCHES.items():
                if name in _stranded:
                    continue
                if DjangoSignal.__dict__[name] is ours:
                    setattr(DjangoSignal, name, _original[name])
                else:
                    _stranded.add(name)


def is_patched() -> bool:
    """Whether ``django.dispatch.Signal.send`` currently runs the pipeline."""
    return DjangoSignal.__dict__["send"] is _PATCHES["send"]


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    """Hand the sends of the current thread or asyncio context to *observer*."""
    _acquire()
    state = _context.get()
    observers, muted = state if state is not None else ((), frozenset())
    token = _context.set(((*observers, observer), muted))
    try:
        yield
    finally:
        _context.reset(token)
        _release()


@contextmanager
def muting(signals: frozenset[DjangoSignal]) -> Iterator[None]:
    """Stop the receivers of *signals* from running in this context only.

    A muted send still reaches the observers, with :attr:`Send.muted` set.
    """
    _acquire()
    state = _context.get()
    observers, muted = state if state is not None else ((), frozenset())
    token = _context.set((observers, muted | signals))
    try:
        yield
    finally:
        _context.reset(token)
        _release()


def add_observer(observer: Observer) -> None:
    """Hand every send, in every thread, to *observer* until it is removed."""
    global _process_observers
    _acquire()
    with _patch_lock:
        _process_observers = (*_process_observers, observer)


def remove_observer(observer: Observer) -> None:
    """Stop handing sends to *observer*, added by :func:`add_observer`."""
    global _process_observers
    with _patch_lock:
        if observer not in _process_observers:
            raise ValueError(f"{observer!r} is not an observer of every send")
        observers = list(_process_observers)
        observers.remove(observer)
        _process_observers = tuple(observers)
    _release()
