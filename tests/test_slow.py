"""signalkit.slow: the slow-receiver log (SIGNALKIT_SLOW_RECEIVER_MS)."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings

from signalkit import Signal, record, slow
from signalkit.checks import check_settings

DJANGO_SEND = DjangoSignal.__dict__["send"]

invoice_sent = Signal(name="tests.slow.invoice_sent", args=["invoice"])


def sluggish(sender: Any, **kwargs: Any) -> None:
    time.sleep(0.005)


def quick(sender: Any, **kwargs: Any) -> None:
    pass


async def async_sluggish(sender: Any, **kwargs: Any) -> None:
    await asyncio.sleep(0.005)


@pytest.fixture
def connected() -> Iterator[None]:
    for receiver in (sluggish, quick, async_sluggish):
        invoice_sent.connect(receiver)
    yield
    for receiver in (sluggish, quick, async_sluggish):
        invoice_sent.disconnect(receiver)


def slow_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "signalkit.slow"]


def test_off_by_default_installs_nothing() -> None:
    assert slow._installed is None
    assert DjangoSignal.__dict__["send"] is DJANGO_SEND


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_slow_receivers_log_a_warning_naming_receiver_signal_duration_and_site(
    connected: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="signalkit.slow"):
        line = sys._getframe().f_lineno + 1
        invoice_sent.send(sender=None, invoice=1)

    records = slow_records(caplog)
    assert [record.receiver for record in records] == [  # type: ignore[attr-defined]
        f"{__name__}.sluggish",
        f"{__name__}.async_sluggish",
    ]
    record = records[0]
    site = f"{__file__}:{line}"
    assert record.levelno == logging.WARNING
    assert record.signal == "tests.slow.invoice_sent"  # type: ignore[attr-defined]
    assert record.site == site  # type: ignore[attr-defined]
    assert record.threshold_ms == 1  # type: ignore[attr-defined]
    duration_ms = record.duration_ms  # type: ignore[attr-defined]
    assert duration_ms >= 5
    assert record.getMessage() == (
        f"Slow receiver {__name__}.sluggish took {duration_ms:.1f} ms "
        f"(SIGNALKIT_SLOW_RECEIVER_MS = 1) for tests.slow.invoice_sent sent at {site}"
    )


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=60_000)
def test_receivers_under_the_threshold_log_nothing(
    connected: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="signalkit.slow"):
        invoice_sent.send(sender=None, invoice=1)

    assert slow_records(caplog) == []


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_async_sends_log_slow_sync_and_async_receivers(
    connected: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="signalkit.slow"):
        asyncio.run(invoice_sent.asend_robust(sender=None, invoice=1))

    assert sorted(r.receiver for r in slow_records(caplog)) == [  # type: ignore[attr-defined]
        f"{__name__}.async_sluggish",
        f"{__name__}.sluggish",
    ]


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_a_slow_receiver_that_raises_is_logged_and_its_error_propagates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def slow_and_broken(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.002)
        raise ValueError("late and broken")

    invoice_sent.connect(slow_and_broken)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="signalkit.slow"),
            pytest.raises(ValueError, match="late and broken"),
        ):
            invoice_sent.send(sender=None, invoice=1)
    finally:
        invoice_sent.disconnect(slow_and_broken)

    [record] = slow_records(caplog)
    assert record.receiver.endswith(".slow_and_broken")  # type: ignore[attr-defined]


def test_setting_changes_install_replace_and_remove_the_log() -> None:
    with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=100):
        first = slow._installed
        assert first is not None
        assert first.threshold_ms == 100
        with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=100):
            assert slow._installed is first
        with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=2.5):
            assert slow._installed is not None
            assert slow._installed.threshold_ms == 2.5
            assert slow._installed.threshold_ns == 2_500_000
        assert slow._installed is not first
        assert slow._installed.threshold_ms == 100

    assert slow._installed is None
    assert DjangoSignal.__dict__["send"] is DJANGO_SEND


def test_other_settings_leave_the_log_alone() -> None:
    with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=100):
        installed = slow._installed
        with override_settings(SIGNALKIT_VALIDATE_ARGS=False):
            assert slow._installed is installed


@pytest.mark.parametrize("value", [0, -5, True, "100", {"ms": 100}])
def test_invalid_threshold_is_a_check_error_and_installs_nothing(value: Any) -> None:
    with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=value):
        [error] = check_settings()
        assert slow._installed is None

    assert error.id == "signalkit.E020"
    assert error.msg == (
        f"SIGNALKIT_SLOW_RECEIVER_MS must be None (off) or a positive number of "
        f"milliseconds, not {value!r} ({type(value).__name__})."
    )


@pytest.mark.parametrize("value", [None, 1, 0.5])
def test_valid_thresholds_pass_the_check(value: Any) -> None:
    with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=value):
        assert check_settings() == []


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_the_docs_show_a_message_in_the_logs_format(
    connected: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="signalkit.slow"):
        invoice_sent.send(sender=None, invoice=1)
    record = slow_records(caplog)[0]
    docs = (Path(__file__).parents[1] / "docs" / "observability.rst").read_text()

    # The message's format, each %-placeholder standing for any value.
    pattern = re.sub(r"%(\\\.1f|s)", ".+", re.escape(str(record.msg)))
    assert re.search(rf"^    {pattern}$", docs, re.MULTILINE)


def test_a_send_no_receiver_hears_is_left_alone() -> None:
    # Counted as dealt with, so the pipeline builds nothing for it.
    assert slow.SlowReceiverLog(1).send_unheard(DjangoSignal(), None) is True


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_receivers_after_one_that_raised_never_ran_and_are_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = DjangoSignal()

    def slow_and_broken(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.002)
        raise ValueError("late and broken")

    def never_runs(sender: Any, **kwargs: Any) -> None:
        raise AssertionError("an earlier receiver raised")

    signal.connect(slow_and_broken)
    signal.connect(never_runs)
    with (
        caplog.at_level(logging.WARNING, logger="signalkit.slow"),
        pytest.raises(ValueError, match="late and broken"),
    ):
        signal.send(sender=None)

    assert [r.receiver.rpartition(".")[2] for r in slow_records(caplog)] == [  # type: ignore[attr-defined]
        "slow_and_broken"
    ]


@override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1)
def test_a_send_whose_receivers_are_all_for_other_senders_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Not alone (a recording too): the log reads the send's empty stamps.
    signal = DjangoSignal()
    signal.connect(sluggish, sender=int)
    with caplog.at_level(logging.WARNING, logger="signalkit.slow"), record() as seen:
        assert signal.send(sender=str) == []
    assert slow_records(caplog) == []
    assert [send.receivers for send in seen.sends] == [[]]
