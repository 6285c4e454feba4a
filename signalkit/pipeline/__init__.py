"""The send-event pipeline: the one place that hooks ``django.dispatch``.

While an observer or a mute is active anywhere in the process, the send
methods and ``_live_receivers`` of ``django.dispatch.Signal`` are replaced by
the pipeline's (each marked with ``_signalkit_pipeline``). A send then
produces events for the observers that see it:

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

Callers see exactly what Django returns, whatever an observer does. One job
per module:

* :mod:`~signalkit.pipeline.observers`: the observer protocol, and the
  isolation of an observer that raises;
* :mod:`~signalkit.pipeline.send`: the record of one send (:class:`Send`);
* :mod:`~signalkit.pipeline.scopes`: which observers see a send;
* :mod:`~signalkit.pipeline.wrapping`: receivers wrapped for one send;
* :mod:`~signalkit.pipeline.loops`: running a send's receivers (the one copy
  of Django's sync loops, or Django's method with wrapped receivers);
* :mod:`~signalkit.pipeline.dispatch`: the replacement methods;
* :mod:`~signalkit.pipeline.lifecycle`: patching and unpatching, and the
  public ways in (:func:`observing`, :func:`muting`, :func:`add_observer`).
"""

from __future__ import annotations

from signalkit.pipeline.lifecycle import (
    add_observer,
    is_patched,
    muting,
    observing,
    remove_observer,
)
from signalkit.pipeline.observers import Observer, SendObserver, observer_failed
from signalkit.pipeline.send import Send, line_of, running_sends, signal_label
from signalkit.pipeline.wrapping import AsyncReceiver, Receiver

__all__ = [
    "AsyncReceiver",
    "Observer",
    "Receiver",
    "Send",
    "SendObserver",
    "add_observer",
    "is_patched",
    "line_of",
    "muting",
    "observer_failed",
    "observing",
    "remove_observer",
    "running_sends",
    "signal_label",
]
