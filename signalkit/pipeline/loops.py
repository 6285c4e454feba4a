"""Running the receivers of an observed send: the one copy of Django's sync
receiver loops, and Django's own methods with wrapped receivers.

A ``send()`` or ``send_robust()`` to sync receivers only runs Django's
receiver loop here, statement for statement, with no wrapper per receiver
(one ``perf_counter_ns()`` reading per receiver, two for observers of
each receiver), but only while the method we
replaced is the one the loop was copied from
(:func:`signalkit.fingerprints.is_djangos`).
Any other observed send runs the method we replaced, with each receiver
wrapped for that send by our ``_live_receivers``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Awaitable, Callable
from operator import itemgetter
from types import CodeType, FrameType
from typing import Any, cast

from django.dispatch import Signal as DjangoSignal

from signalkit.naming import receiver_name
from signalkit.pipeline.observers import Observer, SendObserver, observer_failed
from signalkit.pipeline.scopes import context, finish_send, heard, mute_of
from signalkit.pipeline.send import Send, now_ns, running
from signalkit.pipeline.wrapping import AsyncReceiver, Receiver, unwrap

# What each hooked attribute held before we patched it.
original: dict[str, Any] = {}


# The code of each method we replaced (and of has_listeners()), by id: a
# frame of one of them is where a _live_receivers() call comes from (see
# _send_to_wrap()). Set whole each time we patch. By id: a code object
# hashes all its fields each time.
replaced_codes: dict[int, CodeType] = {}


class _Wrapping:
    # How many sends run_wrapped() or arun_wrapped() run now, in any thread
    # or task: while none does, no _live_receivers() call has a send to wrap
    # and the stack is not searched (a frame object costs more than the rest
    # of a send).

    count = 0
    _lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            _Wrapping.count += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            _Wrapping.count -= 1


_wrapping = _Wrapping()


# Per method: whether the pipeline may run Django's sync receiver loop itself
# (what we replaced is Django's own method), set when we patch.
own_loop: dict[str, bool] = {"send": False, "send_robust": False}


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = original["_live_receivers"](self, sender)
    send = _send_to_wrap(self, sys._getframe(1)) if _Wrapping.count else None
    if send is None:
        # has_listeners() asks here too: a muted signal has none. (The rule
        # of current_scope(), written out: this runs for every send while
        # anything observes.)
        scope = context.get()
        if scope is not None and not scope.open:
            scope = scope.reopened()
        if scope is not None and self in scope.muted:
            muted, skipped = mute_of(scope, self, sender)
            if muted:
                return [], []
            if skipped is not None:
                _, (sync_receivers, async_receivers) = heard(
                    skipped, sync_receivers, async_receivers
                )
        return sync_receivers, async_receivers
    send.wrapped = True
    if send.muted:
        send.muted_receivers = [
            receiver_name(r) for r in (*sync_receivers, *async_receivers)
        ]
        return [], []
    if send.skipped is not None:
        send.muted_receivers, (sync_receivers, async_receivers) = heard(
            send.skipped, sync_receivers, async_receivers
        )
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


def run_send(
    self: DjangoSignal, send: Send, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    """Django's ``send``/``send_robust`` for an observed send.

    For sync receivers, while the method we replaced is Django's own (see
    :func:`is_djangos`), Django's receiver loop runs here (:func:`_loop`)
    with two ``perf_counter_ns()`` stamps per receiver and the per-receiver
    events only for observers that ask for them: a wrapper per receiver would
    cost more than most receivers do. Otherwise Django's method runs the
    send, each receiver wrapped by our ``_live_receivers``.
    """
    method = send.method
    if not own_loop[method] or send.muted or send.skipped is not None:
        return run_wrapped(self, send, sender, named)
    sync_receivers = _sync_receivers(self, sender)
    if sync_receivers is None:
        return run_wrapped(self, send, sender, named)
    return _loop(self, method, sender, named, sync_receivers, send, None)


def run_timed(
    self: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    timer: Observer,
) -> list[tuple[Any, Any]] | None:
    """A send whose only observer is *timer* (see :attr:`Observer.threshold_ns`):
    Django's loop with the stamps and no send built, unless a receiver was
    slower than the threshold. ``None`` when the loop cannot run it (async
    receivers): the caller observes the send as usual."""
    sync_receivers = _sync_receivers(self, sender)
    if sync_receivers is None:
        return None
    return _loop(self, method, sender, named, sync_receivers, None, timer)


def _sync_receivers(self: DjangoSignal, sender: Any) -> list[Callable[..., Any]] | None:
    # The receivers for Django's loop; None when Django's method must run the
    # send (async receivers).
    if type(self)._live_receivers is _live_receivers:
        # Ours, on top of Django's (or sentry-sdk's below ours): asking what
        # ours would only pass on twice changes nothing.
        sync_receivers, async_receivers = original["_live_receivers"](self, sender)
    elif any(map(_is_async, self.receivers)):
        # A subclass's method, or a patch on top of ours, is asked once.
        return None
    else:
        sync_receivers, async_receivers = self._live_receivers(sender)
    if async_receivers:
        # Django's method runs the send, and finds them again (or, connected
        # by another thread since the check above, for the first time).
        return None
    return cast("list[Callable[..., Any]]", sync_receivers)


def _loop(
    self: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    sync_receivers: list[Callable[..., Any]],
    send: Send | None,
    timer: Any,  # an Observer whose threshold_ns is set, or None
) -> list[tuple[Any, Any]]:
    # The one copy of Django's loops (send, send_robust), sync receivers only,
    # for an observed *send*, or for *timer* alone (no send built yet).
    each = () if send is None else send.per_receiver
    responses: list[tuple[Any, Any]] = []
    now = now_ns
    starts: list[int | None] = []
    ends: list[int | None] = []
    start, end = starts.append, ends.append
    respond = responses.append
    errors: dict[int, BaseException] = {}
    key: object = None
    previous: tuple[Send, int | None] | None = None
    if send is not None:
        send._responses = responses
        key = send._key
        previous = running.get(key)
        running[key] = (send, None)
    # Without per-receiver events, a receiver starts when the one before it
    # ended: one clock reading per receiver.
    stamp = first = now()
    try:
        if method == "send":
            for receiver in sync_receivers:
                if each:
                    receiver_started_each(each, send, receiver, len(responses))
                    stamp = now()
                start(stamp)
                response = receiver(signal=self, sender=sender, **named)
                end(stamp := now())
                if each:
                    receiver_finished_each(each, len(responses), response, None)
                respond((receiver, response))
        else:
            for receiver in sync_receivers:
                if each:
                    receiver_started_each(each, send, receiver, len(responses))
                    stamp = now()
                start(stamp)
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except Exception as err:
                    end(stamp := now())
                    errors[len(responses)] = err
                    if each:
                        receiver_finished_each(each, len(responses), None, err)
                    self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                    respond((receiver, err))
                else:
                    end(stamp := now())
                    if each:
                        receiver_finished_each(each, len(responses), response, None)
                    respond((receiver, response))
    except BaseException as error:
        # The receiver at len(responses) raised (or logging its failure did).
        failed = len(responses)
        if len(ends) < len(starts):  # the receiver itself raised
            end(now())
            errors[failed] = error
            if each:
                receiver_finished_each(each, failed, None, error)
        else:  # logging its failure did: that is what the send raises
            errors[failed] = error
        # The receivers after it never ran.
        never: list[None] = [None] * (len(sync_receivers) - len(starts))
        results = [*map(_response, responses), None, *never][: len(sync_receivers)]
        starts += never
        ends += never
        _close(
            self,
            method,
            sender,
            named,
            send,
            timer,
            (sync_receivers, starts, ends, results, errors),
            error,
        )
        raise
    finally:
        if send is not None:
            if previous is None:
                del running[key]
            else:
                running[key] = previous
    if send is not None or stamp - first > timer.threshold_ns:
        # A lone timer: no receiver ran longer than all of them together (they
        # ran one after the other), and most sends are not slow.
        _close(
            self,
            method,
            sender,
            named,
            send,
            timer,
            (sync_receivers, starts, ends, list(map(_response, responses)), errors),
            None,
        )
    return responses


def _close(
    self: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    send: Send | None,
    timer: Any,
    done: tuple[
        list[Callable[..., Any]],
        list[int | None],
        list[int | None],
        list[Any],
        dict[int, BaseException],
    ],
    error: BaseException | None,
) -> None:
    """Hand what the loop did (receivers, start and end stamps, results,
    errors) to the observed send, or to a lone timer."""
    if send is not None:
        _finish(send, *done, error)
    else:
        _timed(self, method, sender, named, timer, *done, error)


def _finish(
    send: Send,
    receivers: list[Callable[..., Any]],
    starts: list[int | None],
    ends: list[int | None],
    results: list[Any],
    errors: dict[int, BaseException],
    error: BaseException | None,
) -> None:
    send.receivers = receivers
    send.sync_count = len(receivers)
    send.receiver_started_ns = starts
    send.receiver_ended_ns = ends
    send.results = results
    if errors:
        send.errors = errors
    finish_send(send, error)


def _timed(
    self: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    timer: Any,
    receivers: list[Callable[..., Any]],
    starts: list[int | None],
    ends: list[int | None],
    results: list[Any],
    errors: dict[int, BaseException],
    error: BaseException | None,
) -> None:
    # The timer's send is built only when a receiver ran longer than its
    # threshold: that is what it wants, and most sends are not slow.
    threshold = timer.threshold_ns
    if not any(
        # None: a receiver never ran (one before it raised).
        began is not None and finished is not None and finished - began > threshold
        for began, finished in zip(starts, ends, strict=True)
    ):
        return
    send = Send(self, method, sender, named, False, sys._getframe())
    send.started_ns = cast(int, starts[0])
    try:
        send_observer = timer.send_started(send)
    except Exception as failure:
        observer_failed(timer, "send_started", failure)
        return
    if send_observer is not None:
        send.observed = ((timer, send_observer),)
    _finish(send, receivers, starts, ends, results, errors, error)


def receiver_finished_each(
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


def receiver_started_each(
    each: tuple[tuple[Observer, SendObserver], ...],
    send: Send | None,
    receiver: Callable[..., Any],
    index: int,
) -> None:
    # Only called with observers of each receiver: of a send, then.
    seen = Receiver(receiver, cast(Send, send), index)
    for observer, send_observer in each:
        try:
            send_observer.receiver_started(index, seen)
        except Exception as failure:
            observer_failed(observer, "receiver_started", failure)


def run_wrapped(
    self: DjangoSignal, send: Send, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    """The method we replaced runs *send*, each receiver wrapped by our
    ``_live_receivers``, which finds *send* in this function's frame."""
    try:
        with _wrapping:
            responses = original[send.method](self, sender, **named)
    except BaseException as error:
        finish_send(send, error)
        raise
    finish_send(send, None)
    return unwrap(responses)


async def arun_wrapped(
    self: DjangoSignal, send: Send, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    """:func:`run_wrapped` for ``asend()`` and ``asend_robust()``."""
    try:
        with _wrapping:
            responses = await original[send.method](self, sender, **named)
    except BaseException as error:
        finish_send(send, error)
        raise
    finish_send(send, None)
    return unwrap(responses)


def _send_to_wrap(signal: DjangoSignal, caller: FrameType | None) -> Send | None:
    """The send whose receivers a ``_live_receivers()`` call made from
    *caller* is to wrap, found on the call stack: the method we replaced
    asks, called by :func:`run_wrapped` (or :func:`arun_wrapped`) for a send
    of *signal* whose receivers are not looked up yet.

    Between that method and us there may be a subclass's
    ``_live_receivers`` (which may send another signal first: that send
    finds its own frame, nearer) or a patch on top of ours (sentry-sdk's).
    No state is handed over: nothing can outlive the send or leak into
    another thread or task.
    """
    frame = caller
    while frame is not None:
        code = id(frame.f_code)
        if code in replaced_codes:
            frame = frame.f_back
            if frame is None or id(frame.f_code) not in _RUNS_WRAPPED:
                return None  # has_listeners(), or a send we do not wrap
            return _unwrapped_send_of(signal, frame)
        if code in _RUNS_WRAPPED:  # what we replaced has no code of its own
            return _unwrapped_send_of(signal, frame)
        if code in _RUNS_RECEIVERS:
            return None  # asked by a receiver, or by the loop before it runs
        frame = frame.f_back
    return None


def _unwrapped_send_of(signal: DjangoSignal, frame: FrameType) -> Send | None:
    send: Send = frame.f_locals["send"]
    return send if send.signal is signal and not send.wrapped else None


# By id, as replaced_codes (these live as long as the module).
_RUNS_WRAPPED = frozenset(map(id, (run_wrapped.__code__, arun_wrapped.__code__)))


_RUNS_RECEIVERS = frozenset(
    map(
        id,
        (
            Receiver.__call__.__code__,
            AsyncReceiver.__call__.__code__,
            _loop.__code__,
            _sync_receivers.__code__,
        ),
    )
)
