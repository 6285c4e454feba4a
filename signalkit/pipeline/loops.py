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
from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any, cast

from django.dispatch import Signal as DjangoSignal

from signalkit.naming import receiver_name
from signalkit.pipeline.observers import Observer, SendObserver, observer_failed
from signalkit.pipeline.scopes import context, finish_send, heard, mute_of
from signalkit.pipeline.send import Send, now_ns, running
from signalkit.pipeline.wrapping import AsyncReceiver, Receiver, pending, unwrap

# What each hooked attribute held before we patched it.
original: dict[str, Any] = {}


# Per method: whether the pipeline may run Django's sync receiver loop itself
# (what we replaced is Django's own method), set when we patch.
own_loop: dict[str, bool] = {"send": False, "send_robust": False}


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = original["_live_receivers"](self, sender)
    send = pending.send
    if send is None or send.signal is not self:
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
    pending.send = None
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
    # A subclass's _live_receivers may send another signal before it calls
    # ours: that send puts back the pending send it found, whether its own
    # was taken or not.
    previous, pending.send = pending.send, send
    try:
        responses = original[send.method](self, sender, **named)
    except BaseException as error:
        finish_send(send, error)
        raise
    finally:
        pending.send = previous
    finish_send(send, None)
    return unwrap(responses)
