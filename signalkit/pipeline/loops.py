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

import ast
import hashlib
import inspect
import textwrap
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


def fingerprint(function: Any) -> str | None:
    """A SHA-256 of the source of *function*'s body (its docstring left out),
    or ``None`` when its source cannot be read.

    Source, not bytecode: it is the same under every Python version.
    """
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        return None
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    lines = source.splitlines()[body[0].lineno - 1 : node.end_lineno]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# The bodies of Django's send() and send_robust() whose sync receiver loop
# run_send() and run_each() copy, by fingerprint, with the Django versions
# that have them. Async receivers always go to Django's own method, so the
# differences between versions (gather or _run_parallel) do not matter here.
DJANGO_LOOPS: dict[str, dict[str, tuple[str, ...]]] = {
    "send": {
        "40ce1b66f1a43cbb26fef6cfa742332c89fed0a3afd409e86a140e559f5fa7aa": (
            "5.2",
            "6.0",
        ),
        "3c39e1ba906366ce74be7500372f06adf825c5e39dc4af92d896e8bf768e0b8c": ("6.1",),
    },
    "send_robust": {
        "626d17c2edb492195d61999f1d020981ca12c8ddefe9a4d94bcd51d300d83f5f": (
            "5.2",
            "6.0",
        ),
        "ea8c7113038a082732d1fba3404520e83e9fdb244de6f671bc8bf1daa6b05ccd": ("6.1",),
    },
}

_checked: dict[tuple[Any, str], bool] = {}


def is_djangos(function: Any, method: str) -> bool:
    """Whether *function* is a ``django.dispatch.Signal.<method>`` whose sync
    receiver loop is the one copied here (checked once per function)."""
    known = _checked.get((function, method))
    if known is None:
        known = _checked[(function, method)] = (
            fingerprint(function) in DJANGO_LOOPS[method]
        )
    return known


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

    For sync receivers, while the method we replaced is Django's own (see
    :func:`is_djangos`), Django's receiver loop runs here, statement for
    statement, with two ``perf_counter_ns()`` stamps per receiver and the
    per-receiver events only for observers that ask for them: a wrapper per
    receiver would cost more than most receivers do. Otherwise Django's
    method runs the send, each receiver wrapped by our ``_live_receivers``.
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
    each = send.per_receiver
    responses: list[tuple[Any, Any]] = []
    now = now_ns
    starts: list[int | None] = []
    ends: list[int | None] = []
    start, end = starts.append, ends.append
    respond = responses.append
    errors: dict[int, BaseException] = {}
    send._responses = responses
    key = send._key
    previous = running.get(key)
    running[key] = (send, None)
    # The one copy of Django's loops (sync receivers only).
    try:
        if method == "send":
            for receiver in sync_receivers:
                if each:
                    receiver_started_each(each, send, receiver, len(responses))
                start(now())
                response = receiver(signal=self, sender=sender, **named)
                end(now())
                if each:
                    receiver_finished_each(each, len(responses), response, None)
                respond((receiver, response))
        else:
            for receiver in sync_receivers:
                if each:
                    receiver_started_each(each, send, receiver, len(responses))
                start(now())
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except Exception as err:
                    end(now())
                    errors[len(responses)] = err
                    if each:
                        receiver_finished_each(each, len(responses), None, err)
                    self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                    respond((receiver, err))
                else:
                    end(now())
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
        send.receivers = sync_receivers
        send.sync_count = len(sync_receivers)
        send.results = [*map(_response, responses), None, *never][: len(sync_receivers)]
        send.receiver_started_ns = [*starts, *never]
        send.receiver_ended_ns = [*ends, *never]
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
    send.receiver_started_ns = starts
    send.receiver_ended_ns = ends
    if errors:
        send.errors = errors
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


def receiver_started_each(
    each: tuple[tuple[Observer, SendObserver], ...],
    send: Send,
    receiver: Callable[..., Any],
    index: int,
) -> None:
    seen = Receiver(receiver, send, index)
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
