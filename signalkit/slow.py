"""The slow-receiver log: ``SIGNALKIT_SLOW_RECEIVER_MS``.

When the setting is a number of milliseconds, every receiver (sync or async,
in any thread) that takes longer logs a WARNING on the logger
``signalkit.slow``. It needs neither OpenTelemetry nor the debug toolbar: the
app installs it as a process-wide observer of the send-event pipeline.
"""

from __future__ import annotations

import logging
from operator import sub
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import Signal as DjangoSignal

from signalkit import pipeline
from signalkit.conf import conf, problem
from signalkit.naming import receiver_name

__all__ = ["SlowReceiverLog", "logger", "sync_with_settings"]

logger = logging.getLogger("signalkit.slow")


class SlowReceiverLog(pipeline.Observer):
    """Logs each receiver that runs longer than *threshold_ms* milliseconds."""

    threshold_ns: float

    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        # Alone, the pipeline builds a send for the log only when a receiver
        # was slower than this (Observer.threshold_ns).
        self.threshold_ns = threshold_ms * 1_000_000

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        return True  # no receiver, nothing to time

    def send_started(self, send: pipeline.Send) -> _SlowSend:
        return _SlowSend(self, send)

    def log(self, send: pipeline.Send, receiver: str, duration_ns: int) -> None:
        """Log one slow receiver of *send*."""
        duration_ms = round(duration_ns / 1_000_000, 1)
        signal = send.signal_name
        site = send.site
        logger.warning(
            "Slow receiver %s took %.1f ms (SIGNALKIT_SLOW_RECEIVER_MS = %s) "
            "for %s sent at %s",
            receiver,
            duration_ms,
            self.threshold_ms,
            signal,
            site,
            extra={
                "receiver": receiver,
                "signal": signal,
                "duration_ms": duration_ms,
                "threshold_ms": self.threshold_ms,
                "site": site,
            },
        )


class _SlowSend(pipeline.SendObserver):
    """Times the receivers of one send, from the stamps the pipeline took."""

    __slots__ = ("_log", "_send")

    # The pipeline stamps every receiver anyway: reading its stamps when the
    # send ends costs the send nothing per receiver.
    per_receiver = False

    def __init__(self, log: SlowReceiverLog, send: pipeline.Send) -> None:
        self._log = log
        self._send = send

    def send_finished(self, error: BaseException | None) -> None:
        send = self._send
        threshold = self._log.threshold_ns
        started, ended = send.receiver_started_ns, send.receiver_ended_ns
        if not started:
            return
        try:
            # Without default=: builtins parse keywords slowly.
            longest = max(map(sub, ended, started))  # pyright: ignore[reportArgumentType]
        except TypeError:  # None: a receiver never ran (one before it raised)
            longest = threshold + 1  # look at each one below
        if longest <= threshold:
            return  # the usual case, decided in C
        for index, (began, end) in enumerate(zip(started, ended, strict=True)):
            # Receivers are named only when slow: most never are.
            if began is not None and end is not None and end - began > threshold:
                self._log.log(send, receiver_name(send.receivers[index]), end - began)


_installed: SlowReceiverLog | None = None


def sync_with_settings() -> None:
    """Install, replace or remove the log to match ``SIGNALKIT_SLOW_RECEIVER_MS``.

    An invalid value installs nothing: the system check ``signalkit.E020``
    reports it.
    """
    global _installed
    threshold = None if problem("SLOW_RECEIVER_MS") else conf.SLOW_RECEIVER_MS
    if _installed is not None:
        if _installed.threshold_ms == threshold:
            return
        pipeline.remove_observer(_installed)
        _installed = None
    if threshold is not None:
        _installed = SlowReceiverLog(threshold)
        pipeline.add_observer(_installed)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "SIGNALKIT_SLOW_RECEIVER_MS":
        sync_with_settings()


setting_changed.connect(_on_setting_changed, dispatch_uid="signalkit.slow")
