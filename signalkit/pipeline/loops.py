"""Running the receivers of an observed send: the one copy of Django's sync
receiver loops, and Django's own methods with wrapped receivers.

A ``send()`` or ``send_robust()`` to sync receivers only runs Django's
receiver loop here, statement for statement, with no wrapper per receiver
(one ``perf_counter_ns()`` stamp per receiver), but only while the method we
replaced is the one the loop was copied from: :func:`is_djangos` compares a
fingerprint of its source with those of the supported Django versions.
Any other observed send runs the method we replaced, with each receiver
wrapped for that send by our ``_live_receivers``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any

from django.dispatch import Signal as DjangoSignal

from signalkit.naming import receiver_name
from signalkit.pipeline.observers import Observer, SendObserver, observer_failed
from signalkit.pipeline.scopes import current_scope, finish_send
from signalkit.pipeline.send import Send, now_ns, running
from signalkit.pipeline.wrapping import AsyncReceiver, Receiver, pending, unwrap

# What each hooked attribute held before we patched it.
original: dict[str, Any] = {}


def is_djangos(function: Any, method: str) -> bool:
    """Whether *function* is ``django.dispatch.Signal``'s own *method*."""
    return (
        getattr(function, "__module__", None) == "django.dispatch.dispatcher"
        and getattr(function, "__qualname__", None) == f"Signal.{method}"
    )


# Per method: whether the pipeline may run Django's sync receiver loop itself
# (what we replaced is Django's own method), set when we patch.
own_loop: dict[str, bool] = {"send": False, "send_robust": False}


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = original["_live_receivers"](self, sender)
    send = pending.send
    if send is None or send.signal is not self:
        # has_listeners() asks here too: a muted signal has none.
        scope = current_scope()
        if scope is not None and self in scope.muted:
            return [], []
        return sync_receivers, async_receivers
    pending.send = None
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


def run_send(
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
    if not own_loop[method] or send.muted:
        return run_wrapped(self, send, sender, named)
    if type(self)._live_receivers is _live_receivers:
        # Ours, on top of Django's (or sentry-sdk's below ours): asking what
        # ours would only pass on twice changes nothing.
        sync_receivers, async_receivers = original["_live_receivers"](self, sender)
    elif any(map(_is_async, self.receivers)):
        # A subclass's method, or a patch on top of ours, is asked once.
        return run_wrapped(self, send, sender, named)
    else:
        sync_receivers, async_receivers = self._live_receivers(sender)
    if async_receivers:
        # Django's method runs the send, and finds them again (or, connected
        # by another thread since the check above, for the first time).
        return run_wrapped(self, send, sender, named)
    if send.per_receiver:
        return run_each(self, send, sender, named, sync_receivers)
    responses: list[tuple[Any, Any]] = []
    now = now_ns
    stamps = [now()]
    stamp = stamps.append
    respond = responses.append
    errors: dict[int, BaseException] = {}
    send._responses = responses
    key = send._key
    previous = running.get(key)
    running[key] = (send, None)
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
        finish_send(send, error)
        raise
    finally:
        if previous is None:
            del running[key]
        else:
            running[key] = previous
    send.receivers = sync_receivers
    send.results = list(map(_response, responses))
    send.sync_count = len(sync_receivers)
    send.receiver_started_ns = stamps[:-1]
    send.receiver_ended_ns = stamps[1:]
    if errors:
        send.errors = errors
    finish_send(send, None)
    return responses


def run_each(
    self: DjangoSignal,
    send: Send,
    sender: Any,
    named: dict[str, Any],
    sync_receivers: list[Callable[..., Any]],
) -> list[tuple[Any, Any]]:
    """:func:`run_send`'s loop with the events of each receiver, for observers
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
    now = now_ns
    key = send._key
    previous = running.get(key)
    running[key] = (send, None)
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
                receiver_finished_each(each, index, None, err)
                if not robust or not isinstance(err, Exception):
                    raise
                self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                response = err
            else:
                ended[index] = now()
                receiver_finished_each(each, index, response, None)
            results[index] = response
            responses.append((receiver, response))
    except BaseException as error:
        finish_send(send, error)
        raise
    finally:
        if previous is None:
            del running[key]
        else:
            running[key] = previous
    finish_send(send, None)
    return responses


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
