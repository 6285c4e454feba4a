from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from signalkit.signal_coverage import (
    Report,
    SignalCoverage,
    build_report,
    in_project,
    report_from_environment,
)
from signalkit.testing import mute
from testapp.models import Post
from testapp.signals import comment_added, post_published

TESTS_DIR = Path(__file__).resolve().parent
# testapp's receiver of post_published, as the report names it.
REMEMBER_PUBLICATION = (
    "testapp.signals.post_published",
    "testapp.signals.remember_publication",
)


def publish() -> None:
    post_published.send(sender=Post, post=Post(pk=1), user="alice")


@pytest.fixture
def coverage() -> Iterator[SignalCoverage]:
    observer = SignalCoverage()
    observer.install()
    yield observer
    observer.uninstall()


def test_a_sent_signal_and_the_receiver_it_ran_are_covered(
    coverage: SignalCoverage,
) -> None:
    publish()

    report = build_report(coverage)

    assert "testapp.signals.post_published" in report.signals_sent
    assert REMEMBER_PUBLICATION in report.receivers_ran


def test_unsent_signals_and_receivers_that_never_ran_are_reported(
    coverage: SignalCoverage,
) -> None:
    report = build_report(coverage)

    assert "testapp.signals.post_published" in report.signals_not_sent
    assert "testapp.signals.comment_added" in report.signals_not_sent
    assert REMEMBER_PUBLICATION in report.receivers_not_run
    assert report.percent < 100


def test_a_receiver_after_one_that_raised_did_not_run(
    coverage: SignalCoverage,
) -> None:
    def fails(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    def never_runs(**kwargs: Any) -> None:
        raise AssertionError("after a receiver that raised")

    comment_added.connect(fails)
    comment_added.connect(never_runs)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            comment_added.send(sender=None, comment="Hi")
    finally:
        comment_added.disconnect(fails)
        comment_added.disconnect(never_runs)

    ran = {receiver for _, receiver in coverage.ran}
    assert f"{__name__}.{fails.__qualname__}" in ran
    assert f"{__name__}.{never_runs.__qualname__}" not in ran


def test_a_send_without_receivers_counts_as_sent(coverage: SignalCoverage) -> None:
    comment_added.send(sender=None, comment="Hi")

    assert "testapp.signals.comment_added" in build_report(coverage).signals_sent


def test_a_muted_send_is_sent_but_runs_no_receiver(coverage: SignalCoverage) -> None:
    with mute(post_published):
        publish()

    report = build_report(coverage)

    assert "testapp.signals.post_published" in report.signals_sent
    assert REMEMBER_PUBLICATION in report.receivers_not_run


def test_only_the_projects_signals_and_receivers_are_reported(
    coverage: SignalCoverage,
) -> None:
    report = build_report(coverage)
    names = report.signals_sent + report.signals_not_sent
    receivers = report.receivers_ran + report.receivers_not_run

    assert "testapp.signals.post_published" in names
    assert "django.db.models.signals.post_save" not in names
    assert "testapp.signals.legacy_event" not in names  # arguments unknown
    assert not any(name.startswith(("django.", "signalkit.")) for name in names)
    assert not any(receiver.startswith("signalkit.") for _, receiver in receivers)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("testapp.signals", True),
        ("not_imported_anywhere", True),
        ("django.db.models.signals", False),
        ("signalkit.conf", False),
        ("pytest", False),  # installed in site-packages
        (None, False),
        ("", False),
    ],
)
def test_in_project(module: str | None, expected: bool) -> None:
    assert in_project(module) is expected


REPORT = Report(
    signals_sent=["shop.signals.order_placed"],
    signals_not_sent=["shop.signals.order_cancelled"],
    receivers_ran=[("shop.signals.order_placed", "shop.receivers.send_mail")],
    receivers_not_run=[("shop.signals.order_cancelled", "shop.receivers.refund")],
)


def test_report_as_text() -> None:
    assert REPORT.as_text() == (
        "signalkit signal coverage: 1 of 2 declared signals sent, 1 of 2 "
        "receivers ran (50.0%)\n"
        "Declared signals no test sent:\n"
        "  shop.signals.order_cancelled\n"
        "Receivers no test ran:\n"
        "  shop.receivers.refund  (shop.signals.order_cancelled)\n"
    )


def test_report_as_json() -> None:
    assert json.loads(REPORT.as_json()) == {
        "percent": 50.0,
        "signals": {
            "sent": ["shop.signals.order_placed"],
            "not_sent": ["shop.signals.order_cancelled"],
        },
        "receivers": {
            "ran": [
                {
                    "signal": "shop.signals.order_placed",
                    "receiver": "shop.receivers.send_mail",
                }
            ],
            "not_run": [
                {
                    "signal": "shop.signals.order_cancelled",
                    "receiver": "shop.receivers.refund",
                }
            ],
        },
    }


def test_a_complete_or_empty_report_is_100_percent() -> None:
    empty = Report([], [], [], [])
    complete = Report(["a.b"], [], [("a.b", "a.c")], [])

    assert empty.percent == complete.percent == 100.0
    assert empty.as_text() == (
        "signalkit signal coverage: 0 of 0 declared signals sent, 0 of 0 "
        "receivers ran (100.0%)\n"
    )


def test_report_writes_json_or_text_by_the_paths_suffix(tmp_path: Path) -> None:
    REPORT.write(tmp_path / "signals.json")
    REPORT.write(tmp_path / "signals.txt")

    assert json.loads((tmp_path / "signals.json").read_text())["percent"] == 50.0
    assert (tmp_path / "signals.txt").read_text() == REPORT.as_text()


def test_without_the_environment_variable_nothing_is_observed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SIGNALKIT_REPORT", raising=False)

    assert report_from_environment() is None


def test_the_environment_variable_writes_the_report_at_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at_exit: list[Callable[[], Any]] = []
    monkeypatch.setattr(atexit, "register", at_exit.append)
    monkeypatch.setenv("SIGNALKIT_REPORT", str(tmp_path / "signals.json"))

    coverage = report_from_environment()
    assert coverage is not None
    try:
        comment_added.send(sender=None, comment="Hi")
    finally:
        coverage.uninstall()
    (write,) = at_exit
    write()

    report = json.loads((tmp_path / "signals.json").read_text())
    assert "testapp.signals.comment_added" in report["signals"]["sent"]


def test_another_runner_gets_the_report_through_the_environment(
    tmp_path: Path,
) -> None:
    """A process that is not pytest: django.setup(), one send, exit."""
    path = tmp_path / "signals.txt"
    script = (
        "import django; django.setup()\n"
        "from testapp.signals import comment_added\n"
        "comment_added.send(sender=None, comment='Hi')\n"
    )

    subprocess.run(
        [sys.executable, "-c", script],
        cwd=TESTS_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            "SIGNALKIT_REPORT": str(path),
        },
        check=True,
        timeout=60,
    )

    text = path.read_text()
    assert text.startswith("signalkit signal coverage: ")
    assert "  testapp.signals.post_published\n" in text
    assert "testapp.signals.comment_added\n" not in text
