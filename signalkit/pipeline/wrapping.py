"""Receivers wrapped for one observed send that Django's own method runs.

Our ``_live_receivers`` (in :mod:`signalkit.pipeline.loops`) hands Django a
:class:`Receiver` (or :class:`AsyncReceiver`) around each receiver of an
observed send; the wrappers stamp it, tell the per-receiver observers, and
are taken out of the responses again by :func:`unwrap`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any, cast

from signalkit.naming import receiver_name
from signalkit.pipeline.observers import observer_failed
from signalkit.pipeline.send import Send, here, now_ns, running


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
        key = here()
        previous = running.get(key)
        running[key] = (send, index)
        for observer, each in send.per_receiver:
            try:
                each.receiver_started(index, self)
            except Exception as error:
                observer_failed(observer, "receiver_started", error)
        # Lists our _live_receivers made for this send (Sequence to readers).
        cast("list[int | None]", started)[index] = now_ns()
        return key, previous

    def _exit(
        self,
        entered: tuple[object, tuple[Send, int | None] | None],
        result: Any,
        error: BaseException | None,
    ) -> None:
        ended_ns = now_ns()
        key, previous = entered
        if previous is None:
            running.pop(key, None)
        else:
            running[key] = previous
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


def unwrap(responses: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
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
