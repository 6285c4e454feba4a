"""The observer protocol, and what happens when an observer raises.

An :class:`Observer` sees sends; for each send it accepts it returns a
:class:`SendObserver` that gets that send's further events. Every call into
an observer is made through the pipeline's ``try``: an observer's exception
never reaches the sender and never stops a receiver
(:func:`observer_failed` logs it, once per observer).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar
from weakref import WeakSet

from django.dispatch import Signal as DjangoSignal

if TYPE_CHECKING:
    from signalkit.pipeline.send import Send
    from signalkit.pipeline.wrapping import Receiver

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

    threshold_ns: float | None = None
    """Set, to a number of nanoseconds, by an observer that wants only the
    sends in which a receiver ran longer than that, and reads nothing but
    the receivers' stamps in :meth:`SendObserver.send_finished` (the
    slow-receiver log). While it is the only observer of a send, the pipeline
    takes two clock readings per receiver and builds the :class:`Send` only
    for a send that had such a receiver."""

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
