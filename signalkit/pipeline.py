"""The send-event pipeline: the one place that hooks ``django.dispatch``.

While an observer or a mute is active anywhere in the process, the send
methods and ``_live_receivers`` of ``django.dispatch.Signal`` are replaced by
the functions here (each marked with ``_signalkit_pipeline``). A send then
produces events for the observers active for it:

* :meth:`Observer.send_unheard` for a send that runs no receiver (Django
  returns ``[]`` at once): an observer may only count it;
* :meth:`Observer.send_started` before Django looks up the receivers; an
  observer returns a :class:`SendObserver` for the rest of that send, or
  ``None`` to ignore it;
* :meth:`SendObserver.receiver_started` and
  :meth:`SendObserver.receiver_finished` around each receiver, in the thread
  or asyncio task the receiver runs in, for observers whose
  :attr:`~SendObserver.per_receiver` is true;
* :meth:`SendObserver.send_finished` when the send returns or raises; the
  per-receiver data of the send (:attr:`Send.receivers` and the lists beside
  it) is complete then.

A ``send()`` or ``send_robust()`` to sync receivers only, with Django's own
method in place, runs Django's receiver loop here, statement for statement,
with no wrapper per receiver: one ``perf_counter_ns()`` stamp per receiver,
and the per-receiver events only for observers that ask for them.
Any other observed send runs Django's own method with each receiver wrapped
for that send only, and the wrappers are taken out of the value it returns.
Either way callers see exactly what Django returns. Observers are either
*context* observers (:func:`observing`, active in the current thread or
asyncio context, as ``record()`` is) or *process-wide* ones
(:func:`add_observer`, seeing every send in every thread, as a tracer does).

When the last observer and mute end, each hooked attribute that still holds
our function gets back what it held before (Django's own method, unless
someone patched it before us); an attribute another library (sentry-sdk)
patched on top of ours is left alone, and ours, still called by theirs,
passes every send straight through while nothing observes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from operator import itemgetter
from types import CodeType, FrameType, FunctionType, MappingProxyType
from typing import Any, ClassVar, cast
from weakref import WeakSet

import django
from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.naming import receiver_name, remember
from signalkit.registry import registry

logger = logging.getLogger("signalkit")

# Observers whose failure was logged: each is logged once.
_failed_observers: WeakSet[object] = WeakSet()


def _describe(observer: object) -> str:
    try:
        return repr(observer)
    except Exception:  # a user's __repr__ must not break the send
        return f"<{type(observer).__module__}.{type(observer).__qualname__}>"


def observer_failed(observer: object, event: str, error: Exception) -> None:
    """Log that *observer* raised *error* in *event*, once per observer.

    An observer's exception never reaches the sender and never stops a
    receiver: the send goes on as Django makes it.
    """
    try:
        if observer in _failed_observers:
            return
        _failed_observers.add(observer)
    except TypeError:  # unhashable or not weakly referenceable: log each time
        pass
    logger.error(
        "signalkit observer %s raised in %s; the send went on without it",
        _describe(observer),
        event,
        exc_info=error,
    )


class Observer:
    """Something that wants to see signal sends (the recorder, a tracer)."""

    may_decline: ClassVar[bool] = False
    """Whether :meth:`declines` is asked before anything of a send is built.
    For a process-wide observer that ignores most sends (a tracer outside a
    sampled trace): declining there costs the send almost nothing."""

    def declines(self, signal: DjangoSignal, sender: Any) -> bool:
        """Whether to ignore this send of *signal* by *sender* altogether.

        Asked, when :attr:`may_decline` is true, before :meth:`send_unheard`
        and :meth:`send_started`, in the thread and context of the sender.
        """
        return False

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        """A send of *signal* by *sender* that runs no receiver.

        Called instead of :meth:`send_started` when Django would return
        ``[]`` at once (no receiver connected, or none for this sender). Return
        ``True`` once the send is dealt with (counted, ignored); ``False`` (the
        default) to get :meth:`send_started` and the rest of its events.
        """
        return False

    def send_started(self, send: Send) -> SendObserver | None:
        """A send starts, before its receivers are looked up.

        Return an object that gets this send's further events, or ``None`` to
        ignore the send. Called in the thread and context of the sender.
        """
        return None


class SendObserver:
    """Gets the events of one send that an :class:`Observer` accepted."""

    per_receiver: ClassVar[bool] = True
    """Whether :meth:`receiver_started` and :meth:`receiver_finished` are
    called around each receiver. An observer that sets it false reads what
    the receivers did from the :class:`Send` in :meth:`send_finished`, and
    costs the send nothing per receiver."""

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
    # Called for a file not yet in _internal_files.
    skip = _internal_files[filename] = (
        filename.startswith(_INTERNAL_DIRS) or "asgiref" in filename
    )
    return skip


def line_of(code: CodeType, offset: int) -> int:
    """The line of the instruction at byte *offset* of *code* (as in
    :meth:`Send.site_offset`); past its end, the last line."""
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if number is not None:
            line = number
        if start <= offset < end:
            break
    return line


def signal_label(signal: DjangoSignal) -> str:
    """The registry name of *signal*, or a description of an unregistered one."""
    name = registry.label(signal) or _unregistered_labels.get(id(signal))
    if name is not None:
        return name
    cls = type(signal)
    label = f"<{cls.__module__}.{cls.__qualname__} at {id(signal):#x}>"
    return remember(_unregistered_labels, signal, label)


_unregistered_labels: dict[int, str] = {}


class Send:
    """One send of a signal, as the pipeline hands it to observers.

    It holds the signal, sender, arguments and receivers only while the send
    runs: an observer that keeps anything after
    :meth:`SendObserver.send_finished` must copy or summarise it.

    What the receivers did is in lists indexed by the receiver's place in
    Django's responses (sync receivers first, then async ones), complete in
    :meth:`SendObserver.send_finished`: :attr:`receivers`,
    :attr:`receiver_started_ns`, :attr:`receiver_ended_ns`, :attr:`results`
    and :attr:`errors`.
    """

    # No __slots__: what most sends never set stays a class attribute, so
    # that a send sets only what varies.

    signal: DjangoSignal
    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    sender: Any
    named: dict[str, Any]
    """The keyword arguments of the send."""
    started_ns: int
    """``time.perf_counter_ns()`` when the send started."""
    parent: Send | None = None
    """The send whose receiver made this send, in this thread or task."""
    parent_index: int = 0
    """The index of that receiver in the parent's responses."""
    muted: bool
    """Whether a mute stops this send's receivers from running."""
    muted_receivers: Sequence[str] = ()
    """Names of the receivers a mute stopped."""
    observed: tuple[tuple[Observer, SendObserver], ...] = ()
    per_receiver: tuple[tuple[Observer, SendObserver], ...] = ()
    """The pairs of :attr:`observed` that get the events of each receiver."""
    receivers: Sequence[Callable[..., Any]] = ()
    """The live receivers found for the send, sync ones first (under
    sentry-sdk they may be its per-send wrappers:
    :func:`signalkit.naming.receiver_name` names the real receiver)."""
    sync_count: int = 0
    """How many of :attr:`receivers` are sync; the rest are async."""
    receiver_started_ns: Sequence[int | None] = ()
    """``perf_counter_ns()`` when each receiver started; ``None`` for one
    that never ran because an earlier one raised."""
    receiver_ended_ns: Sequence[int | None] = ()
    """``perf_counter_ns()`` when each receiver returned or raised."""
    results: Sequence[Any] = ()
    """What each receiver returned (``send_robust()``: or the exception)."""
    errors: Mapping[int, BaseException] = MappingProxyType({})
    """The exception each receiver that raised raised, by index."""
    _responses: list[tuple[Any, Any]] | None = None
    _code: CodeType | None = None
    _lasti = 0
    _released = False

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
        self._frame = frame
        key = self._key = _here()
        running = _running.get(key)
        if running is not None:
            parent, index = running
            self.parent = parent
            # None: the pipeline's own loop runs the parent's receivers, and
            # the one running is the next to respond.
            self.parent_index = len(parent._responses or ()) if index is None else index
        self.started_ns = _now_ns()

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
        :meth:`Observer.send_started` (or :meth:`site_offset`) and format it
        when read (see :attr:`site`); no frame is kept.
        """
        site = self.site_offset()
        return None if site is None else (site[0], line_of(*site))

    def site_offset(self) -> tuple[CodeType, int] | None:
        """:meth:`keep_site` with the instruction's byte offset for a line.

        Cheaper: the line number is worked out from the offset when read
        (:func:`line_of`), not while the send runs.
        """
        frame = self._frame
        if frame is not None:
            self._frame = None
            internal = _internal_files
            while frame is not None:
                code = frame.f_code
                skip = internal.get(code.co_filename)
                if skip is None:
                    skip = _is_internal(code.co_filename)
                if not skip:
                    self._code, self._lasti = code, frame.f_lasti
                    break
                frame = frame.f_back
        return None if self._code is None else (self._code, self._lasti)

    @property
    def site(self) -> str:
        """``file:line`` of the first frame outside Django and signalkit."""
        site = self.keep_site()
        return "<unknown>" if site is None else f"{site[0].co_filename}:{site[1]}"

    def _release(self) -> None:
        # Nothing of the send outlives it here (observers copy what they keep).
        # Flagged first: a receiver still running in another thread or task
        # (Django 5.2's asend() after a failure) reads the flag after taking
        # the lists, and writes nothing once it is set.
        self._released = True
        self.sender = self.named = self._frame = None  # type: ignore[assignment]
        self.receivers = self.results = ()
        self.errors = _NO_ERRORS
        self._responses = None


_NO_ERRORS: Mapping[int, BaseException] = MappingProxyType({})


# What runs where: the send and receiver index of the receiver running in
# each asyncio task, or (outside an event loop) each thread. Django 6.1 runs
# the async receivers of one send concurrently in one shared context, so a
# context variable could not tell them apart. An index of None: the
# pipeline's loop runs that send's receivers one after another.
_running: dict[object, tuple[Send, int | None]] = {}
_get_running_loop = asyncio._get_running_loop
_current_task = asyncio.current_task
_get_ident = threading.get_ident
_now_ns = time.perf_counter_ns


def _here() -> object:
    # The asyncio task, or the thread outside a loop (or in a loop callback).
    loop = _get_running_loop()
    return _get_ident() if loop is None else (_current_task(loop) or _get_ident())


class Receiver:
    # A receiver as per-receiver observers see it; wrapped around a receiver
    # for one observed send that Django's method runs. Not a docstring:
    # instances answer __doc__ as the receiver does.

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

    def _enter(self) -> tuple[object, tuple[Send, int | None] | None] | None:
        # None: the send was released (its method raised while this
        # receiver was still to run): the receiver runs unobserved.
        send, index = self._send, self.index
        started = send.receiver_started_ns
        if send._released:
            return None
        key = _here()
        previous = _running.get(key)
        _running[key] = (send, index)
        for observer, each in send.per_receiver:
            try:
                each.receiver_started(index, self)
            except Exception as error:
                observer_failed(observer, "receiver_started", error)
        # Lists our _live_receivers made for this send (Sequence to readers).
        cast("list[int | None]", started)[index] = _now_ns()
        return key, previous

    def _exit(
        self,
        entered: tuple[object, tuple[Send, int | None] | None],
        result: Any,
        error: BaseException | None,
    ) -> None:
        ended_ns = _now_ns()
        key, previous = entered
        if previous is None:
            _running.pop(key, None)
        else:
            _running[key] = previous
        send, index = self._send, self.index
        ended, results, errors = send.receiver_ended_ns, send.results, send.errors
        if not send._released:
            cast("list[int | None]", ended)[index] = ended_ns
            cast("list[Any]", results)[index] = result
            if error is not None:
                cast("dict[int, BaseException]", errors)[index] = error
        # Also after the release: a span started for the receiver ends.
        for observer, each in send.per_receiver:
            try:
                each.receiver_finished(index, result, error)
            except Exception as failure:
                observer_failed(observer, "receiver_finished", failure)

    def __call__(self, **kwargs: Any) -> Any:
        entered = self._enter()
        if entered is None:
            return self.func(**kwargs)
        try:
            result = self.func(**kwargs)
        except BaseException as error:
            self._exit(entered, None, error)
            raise
        self._exit(entered, result, None)
        return result


class AsyncReceiver(Receiver):
    # An async receiver wrapped for one observed send.

    __slots__ = ()

    is_async = True

    async def __call__(self, **kwargs: Any) -> Any:
        entered = self._enter()
        if entered is None:
            return await self.func(**kwargs)
        try:
            result = await self.func(**kwargs)
        except BaseException as error:
            self._exit(entered, None, error)
            raise
        self._exit(entered, result, None)
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


class _Scope:
    # The observers and mutes of one observing() or muting() block, with
    # those of the blocks it is nested in. Asyncio tasks made inside a block
    # copy the context, and with it the scope: when the block ends, its scope
    # and those nested in it are closed, so that nothing in such a task is
    # observed or muted by the ended block any more.

    __slots__ = (
        "adds",
        "children",
        "ended",
        "muted",
        "observer",
        "observers",
        "open",
        "parent",
        "__weakref__",  # parents know their children weakly
    )

    def __init__(
        self,
        parent: _Scope | None,
        observer: Observer | None,
        adds: frozenset[DjangoSignal],
    ) -> None:
        self.parent = parent
        self.observer = observer  # what this block adds
        self.adds = adds
        self.open = True  # this block and every block around it still run
        self.ended = False  # this block ended
        self.children: WeakSet[_Scope] = WeakSet()
        if parent is None:
            self.observers: tuple[Observer, ...] = (
                () if observer is None else (observer,)
            )
            self.muted: frozenset[DjangoSignal] = adds
        else:
            parent.children.add(self)
            self.observers = (
                parent.observers if observer is None else (*parent.observers, observer)
            )
            self.muted = parent.muted | adds if adds else parent.muted

    def end(self) -> None:
        self.ended = True
        closing = [self]
        while closing:
            scope = closing.pop()
            scope.open = False
            closing.extend(scope.children)

    def reopened(self) -> _Scope | None:
        # What is left of a closed scope: the blocks in it that still run.
        chain = []
        scope: _Scope | None = self
        while scope is not None:
            if not scope.ended:
                chain.append(scope)
            scope = scope.parent
        left = None
        for scope in reversed(chain):
            left = _Scope(left, scope.observer, scope.adds)
        return left


# The scope of the current context.
_context: ContextVar[_Scope | None] = ContextVar("signalkit_pipeline", default=None)


def _scope() -> _Scope | None:
    """The observers and mutes of the current context that still run.

    The one rule for context observers: a block sees exactly the sends made
    in its context while it runs.
    """
    scope = _context.get()
    if scope is None or scope.open:
        return scope
    return scope.reopened()


# Process-wide observers, and whether one of them may decline sends before
# they are built: replaced as a whole, read once per send.
_wide: tuple[tuple[Observer, ...], bool] = ((), False)


# The send whose receivers the next _live_receivers() call in this thread
# wraps: Django calls it synchronously, before any await, right after our
# method calls Django's.
class _Pending(threading.local):
    send: Send | None = None


_pending = _Pending()

# What each hooked attribute held before we patched it.
_original: dict[str, Any] = {}


def _is_djangos(function: Any, method: str) -> bool:
    """Whether *function* is ``django.dispatch.Signal``'s own *method*."""
    return (
        getattr(function, "__module__", None) == "django.dispatch.dispatcher"
        and getattr(function, "__qualname__", None) == f"Signal.{method}"
    )


# Per method: whether the pipeline may run Django's sync receiver loop itself
# (what we replaced is Django's own method), set when we patch.
_own_loop: dict[str, bool] = {"send": False, "send_robust": False}


def _observers(signal: DjangoSignal) -> tuple[tuple[Observer, ...], bool]:
    """Which observers see a send of *signal* here, and whether it is muted.

    The one rule: every process-wide observer, then those of the current
    context's blocks that still run (see :func:`_scope`).
    """
    wide = _wide[0]
    scope = _scope()
    if scope is None:
        return wide, False
    return (wide + scope.observers if wide else scope.observers), signal in scope.muted


def _unheard(
    signal: DjangoSignal, method: str, sender: Any, named: dict[str, Any]
) -> Send | None:
    """What to observe of a send Django returns ``[]`` from at once.

    Observers that deal with it in :meth:`Observer.send_unheard` are left
    out; ``None`` when none is left and the send is not muted.
    """
    observers, muted = _observers(signal)
    if muted:  # a muted send is kept
        return _start(signal, method, sender, named, observers, True, 3)
    observers = _without_decliners(observers, signal, sender)
    left = []
    for observer in observers:
        try:
            if observer.send_unheard(signal, sender):
                continue
        except Exception as error:
            observer_failed(observer, "send_unheard", error)
            continue
        left.append(observer)
    if not left:
        return None
    return _start(signal, method, sender, named, tuple(left), False, 3)


def _start(
    signal: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    observers: tuple[Observer, ...],
    muted: bool,
    depth: int = 2,
) -> Send | None:
    """The observed send, or ``None`` when nothing observes or mutes it.

    *depth*: how many frames up the sender's call of the send method is.
    """
    observers = _without_decliners(observers, signal, sender)
    if not observers and not muted:
        return None
    send = Send(signal, method, sender, named, muted, sys._getframe(depth))
    observed = []
    per_receiver = []
    for observer in observers:
        try:
            send_observer = observer.send_started(send)
        except Exception as error:
            observer_failed(observer, "send_started", error)
            continue
        if send_observer is not None:
            pair = (observer, send_observer)
            observed.append(pair)
            if send_observer.per_receiver:
                per_receiver.append(pair)
    if not observed and not muted:
        return None
    send.observed = tuple(observed)
    if per_receiver:
        send.per_receiver = tuple(per_receiver)
    return send


def _without_decliners(
    observers: tuple[Observer, ...], signal: DjangoSignal, sender: Any
) -> tuple[Observer, ...]:
    if not _wide[1]:
        return observers  # only a process-wide observer may decline
    kept = []
    for observer in observers:
        if observer.may_decline:
            try:
                if observer.declines(signal, sender):
                    continue
            except Exception as error:
                observer_failed(observer, "declines", error)
                continue
        kept.append(observer)
    return tuple(kept)


def _finish(send: Send, error: BaseException | None) -> None:
    for observer, send_observer in send.observed:
        try:
            send_observer.send_finished(error)
        except Exception as failure:
            observer_failed(observer, "send_finished", failure)
    send._release()


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = _original["_live_receivers"](self, sender)
    send = _pending.send
    if send is None or send.signal is not self:
        # has_listeners() asks here too: a muted signal has none.
        scope = _scope()
        if scope is not None and self in scope.muted:
            return [], []
        return sync_receivers, async_receivers
    _pending.send = None
    if send.muted:
        send.muted_receivers = [
            receiver_name(r) for r in (*sync_receivers, *async_receivers)
        ]
        return [], []
    count = len(sync_receivers)
    send.receivers = [*sync_receivers, *async_receivers]
    send.sync_count = count
    total = len(send.receivers)
    send.receiver_started_ns = [None] * total
    send.receiver_ended_ns = [None] * total
    send.results = [None] * total
    send.errors = {}
    return (
        [Receiver(r, send, index) for index, r in enumerate(sync_receivers)],
        [
            AsyncReceiver(r, send, count + index)
            for index, r in enumerate(async_receivers)
        ],
    )


# Django keeps each connection as a tuple whose last item says whether the
# receiver is async (5.2 to 6.1).
_is_async = itemgetter(-1)
_response = itemgetter(1)


def _run(
    self: DjangoSignal, send: Send, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    """Django's ``send``/``send_robust`` for an observed send.

    For sync receivers, with Django's own method in place, Django's receiver
    loop runs here, statement for statement (it is the same in every
    supported Django; tox runs Django's own suites against it), taking one
    ``perf_counter_ns()`` stamp per receiver: a wrapper per receiver would
    cost more than most receivers do. Otherwise Django's method runs the
    send, each receiver wrapped by our ``_live_receivers``.
    """
    method = send.method
    if not _own_loop[method] or send.muted:
        return _run_wrapped(self, send, sender, named)
    if type(self)._live_receivers is _live_receivers:
        # Ours, on top of Django's (or sentry-sdk's below ours): asking what
        # ours would only pass on twice changes nothing.
        sync_receivers, async_receivers = _original["_live_receivers"](self, sender)
    elif any(map(_is_async, self.receivers)):
        # A subclass's method, or a patch on top of ours, is asked once.
        return _run_wrapped(self, send, sender, named)
    else:
        sync_receivers, async_receivers = self._live_receivers(sender)
    if async_receivers:
        # Django's method runs the send, and finds them again (or, connected
        # by another thread since the check above, for the first time).
        return _run_wrapped(self, send, sender, named)
    if send.per_receiver:
        return _run_each(self, send, sender, named, sync_receivers)
    responses: list[tuple[Any, Any]] = []
    now = _now_ns
    stamps = [now()]
    stamp = stamps.append
    respond = responses.append
    errors: dict[int, BaseException] = {}
    send._responses = responses
    key = send._key
    previous = _running.get(key)
    _running[key] = (send, None)
    try:
        if method == "send":
            for receiver in sync_receivers:
                response = receiver(signal=self, sender=sender, **named)
                stamp(now())
                respond((receiver, response))
        else:
            for receiver in sync_receivers:
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except Exception as err:
                    stamp(now())
                    errors[len(responses)] = err
                    self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                    respond((receiver, err))
                else:
                    stamp(now())
                    respond((receiver, response))
    except BaseException as error:
        # The receiver at len(responses) raised (or logging its failure did).
        failed = len(responses)
        if len(stamps) == failed + 1:
            stamp(now())
        errors[failed] = error
        # The receivers after it never ran.
        never: list[None] = [None] * (len(sync_receivers) - failed - 1)
        send.receivers = sync_receivers
        send.sync_count = len(sync_receivers)
        send.results = [*map(_response, responses), None, *never]
        send.receiver_started_ns = [*stamps[:-1], *never]
        send.receiver_ended_ns = [*stamps[1:], *never]
        send.errors = errors
        _finish(send, error)
        raise
    finally:
        if previous is None:
            del _running[key]
        else:
            _running[key] = previous
    send.receivers = sync_receivers
    send.results = list(map(_response, responses))
    send.sync_count = len(sync_receivers)
    send.receiver_started_ns = stamps[:-1]
    send.receiver_ended_ns = stamps[1:]
    if errors:
        send.errors = errors
    _finish(send, None)
    return responses


def _run_each(
    self: DjangoSignal,
    send: Send,
    sender: Any,
    named: dict[str, Any],
    sync_receivers: list[Callable[..., Any]],
) -> list[tuple[Any, Any]]:
    """:func:`_run`'s loop with the events of each receiver, for observers
    that ask for them (a tracer, the slow-receiver log)."""
    robust = send.method == "send_robust"
    each = send.per_receiver
    count = len(sync_receivers)
    started: list[int | None] = [None] * count
    ended: list[int | None] = [None] * count
    results: list[Any] = [None] * count
    errors: dict[int, BaseException] = {}
    send.receivers, send.sync_count = sync_receivers, count
    send.receiver_started_ns, send.receiver_ended_ns = started, ended
    send.results, send.errors = results, errors
    responses: list[tuple[Any, Any]] = []
    send._responses = responses
    now = _now_ns
    key = send._key
    previous = _running.get(key)
    _running[key] = (send, None)
    try:
        for index, receiver in enumerate(sync_receivers):
            seen = Receiver(receiver, send, index)
            for observer, send_observer in each:
                try:
                    send_observer.receiver_started(index, seen)
                except Exception as failure:
                    observer_failed(observer, "receiver_started", failure)
            started[index] = now()
            try:
                response = receiver(signal=self, sender=sender, **named)
            except BaseException as err:
                ended[index] = now()
                errors[index] = err
                _receiver_finished(each, index, None, err)
                if not robust or not isinstance(err, Exception):
                    raise
                self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                response = err
            else:
                ended[index] = now()
                _receiver_finished(each, index, response, None)
            results[index] = response
            responses.append((receiver, response))
    except BaseException as error:
        _finish(send, error)
        raise
    finally:
        if previous is None:
            del _running[key]
        else:
            _running[key] = previous
    _finish(send, None)
    return responses


def _receiver_finished(
    each: tuple[tuple[Observer, SendObserver], ...],
    index: int,
    result: Any,
    error: BaseException | None,
) -> None:
    for observer, send_observer in each:
        try:
            send_observer.receiver_finished(index, result, error)
        except Exception as failure:
            observer_failed(observer, "receiver_finished", failure)


def _run_wrapped(
    self: DjangoSignal, send: Send, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    # A subclass's _live_receivers may send another signal before it calls
    # ours: that send puts back the pending send it found, whether its own
    # was taken or not.
    previous, _pending.send = _pending.send, send
    try:
        responses = _original[send.method](self, sender, **named)
    except BaseException as error:
        _finish(send, error)
        raise
    finally:
        _pending.send = previous
    _finish(send, None)
    return _unwrap(responses)


def _make_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    def patched(self: DjangoSignal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        # Read once: add_observer() and remove_observer() replace it whole.
        wide, declining = _wide
        scope = _context.get()
        if scope is not None and not scope.open:
            scope = scope.reopened()  # the rule of _scope(), written out
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ):
            # Django returns [] at once: decide that before building anything.
            if scope is None and not wide:
                send = None
            elif (
                scope is not None
                and not wide
                and len(scope.observers) == 1
                and self not in scope.muted
            ):
                # One observer (a recording) and no mute: written out.
                observer = scope.observers[0]
                try:
                    dealt_with = observer.send_unheard(self, sender)
                except Exception as error:
                    observer_failed(observer, "send_unheard", error)
                    dealt_with = True
                send = (
                    None
                    if dealt_with
                    else _start(self, method, sender, named, scope.observers, False)
                )
            else:
                send = _unheard(self, method, sender, named)
            if not _own_loop[method]:
                if send is None:
                    return _original[method](self, sender, **named)  # type: ignore[no-any-return]
                return _run_wrapped(self, send, sender, named)
            if send is not None:
                _finish(send, None)
            return []  # what Django's method returns here
        if scope is None:
            if not wide:
                return _original[method](self, sender, **named)  # type: ignore[no-any-return]
            if declining and len(wide) == 1:
                # A lone tracer outside a sampled trace: written out, as it
                # is every send of a production process.
                observer = wide[0]
                try:
                    declined = observer.declines(self, sender)
                except Exception as error:
                    observer_failed(observer, "declines", error)
                    declined = True
                if declined:
                    return _original[method](self, sender, **named)  # type: ignore[no-any-return]
            send = _start(self, method, sender, named, wide, False)
        else:
            observers = wide + scope.observers if wide else scope.observers
            send = _start(self, method, sender, named, observers, self in scope.muted)
        if send is None:
            return _original[method](self, sender, **named)  # type: ignore[no-any-return]
        return _run(self, send, sender, named)

    patched.__name__ = patched.__qualname__ = method
    return patched


def _make_async(method: str) -> Callable[..., Awaitable[list[tuple[Any, Any]]]]:
    async def patched(
        self: DjangoSignal, sender: Any, **named: Any
    ) -> list[tuple[Any, Any]]:
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ):
            send = _unheard(self, method, sender, named)
        else:
            observers, muted = _observers(self)
            send = _start(self, method, sender, named, observers, muted)
        if send is None:
            return await _original[method](self, sender, **named)  # type: ignore[no-any-return]
        previous, _pending.send = _pending.send, send
        try:
            responses = await _original[method](self, sender, **named)
        except BaseException as error:
            _finish(send, error)
            raise
        finally:
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
                if name in _own_loop:
                    _own_loop[name] = _is_djangos(current, name)
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
    """Hand the sends of the current thread or asyncio context to *observer*.

    It sees exactly the sends made in this context (tasks made in it
    included) until the block ends.
    """
    with _in_scope(observer, frozenset()):
        yield


@contextmanager
def muting(signals: frozenset[DjangoSignal]) -> Iterator[None]:
    """Stop the receivers of *signals* from running in this context only.

    A muted send still reaches the observers, with :attr:`Send.muted` set.
    """
    with _in_scope(None, signals):
        yield


@contextmanager
def _in_scope(
    observer: Observer | None, muted: frozenset[DjangoSignal]
) -> Iterator[None]:
    _acquire()
    try:
        scope = _Scope(_context.get(), observer, muted)
        token = _context.set(scope)
    except BaseException:
        _release()
        raise
    try:
        yield
    finally:
        scope.end()
        try:
            # Raises when left in another context than it was entered in.
            _context.reset(token)
        finally:
            _release()


def add_observer(observer: Observer) -> None:
    """Hand every send, in every thread, to *observer* until it is removed."""
    global _wide
    _acquire()
    with _patch_lock:
        observers = (*_wide[0], observer)
        _wide = (observers, any(each.may_decline for each in observers))


def remove_observer(observer: Observer) -> None:
    """Stop handing sends to *observer*, added by :func:`add_observer`."""
    global _wide
    with _patch_lock:
        if observer not in _wide[0]:
            raise ValueError(f"{observer!r} is not an observer of every send")
        observers = list(_wide[0])
        observers.remove(observer)
        _wide = (tuple(observers), any(each.may_decline for each in observers))
    _release()


def running_sends() -> list[Send]:
    """The sends whose receivers run now, in any thread or task (for tests:
    empty once every send has returned)."""
    return [send for send, _ in list(_running.values())]
