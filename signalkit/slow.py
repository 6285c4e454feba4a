"""The slow-receiver log: ``SIGNALKIT_SLOW_RECEIVER_MS``.

When the setting is a number of milliseconds, every receiver (sync or async,
in any thread) that takes longer logs a WARNING on the logger
``signalkit.slow``. It needs neither OpenTelemetry nor the debug toolbar: the
app installs it as a process-wide observer of the send-event pipeline.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.signals import setting_changed

from signalkit import pipeline
from signalkit.conf import conf, problem

__all__ = ["SlowReceiverLog", "logger", "sync_with_settings"]

logger = logging.getLogger("signalkit.slow")

_perf_counter_ns = time.perf_counter_ns


class SlowReceiverLog(pipeline.Observer):
    """Logs each receiver that runs longer than *threshold_ms* milliseconds."""

    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        self.threshold_ns = threshold_ms * 1_000_000

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
    """Times the receivers of one send."""

    __slots__ = ("_log", "_send", "_started")

    def __init__(self, log: SlowReceiverLog, send: pipeline.Send) -> None:
        self._log = log
        self._send = send
        # index -> (started_ns, receiver); Django 6.1 runs the async
        # receivers of one send concurrently. Receivers are named only when
        # slow: most never are.
        self._started: dict[int, tuple[int, pipeline.Receiver]] = {}

    def receiver_started(self, index: int, receiver: pipeline.Receiver) -> None:
        self._started[index] = (_perf_counter_ns(), receiver)

    def receiver_finished(
        self, index: int, result: Any, error: BaseException | None
    ) -> None:
        duration = _perf_counter_ns()
        started, receiver = self._started.pop(index)
        duration -= started
        if duration > self._log.threshold_ns:
            self._log.log(self._send, receiver.name, duration)

    def send_finished(self, error: BaseException | None) -> None:
        pass


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
