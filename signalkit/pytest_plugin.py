"""signalkit's pytest plugin, loaded through the ``pytest11`` entry point.

* the ``signals`` fixture: a :class:`signalkit.testing.Capture` of every
  signal the test sends;
* the ``mute_signals`` marker: ``@pytest.mark.mute_signals("dotted.name",
  ..., sender=None, receiver=None)`` mutes those signals for the test and
  its function-scoped fixtures, as :func:`signalkit.testing.mute` does;
* signal coverage: ``--signalkit-report`` prints, at the end of the session,
  the project's declared signals that no test sent and the receivers no test
  ran; ``--signalkit-report-json=PATH`` writes them as JSON and
  ``--signalkit-fail-under=PERCENT`` fails the session below that coverage.

Nothing here imports Django or signalkit's Django-dependent modules at import
time: pytest loads the plugin before pytest-django configures settings, so
every lookup happens inside a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from signalkit.signal_coverage import Report, SignalCoverage
    from signalkit.testing import Capture, mute

MARKER = "mute_signals"

# Where the session's signal coverage and its report are kept.
_coverage_key: pytest.StashKey[SignalCoverage] = pytest.StashKey()
_report_key: pytest.StashKey[Report] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("signalkit", "signalkit signal coverage")
    group.addoption(
        "--signalkit-report",
        action="store_true",
        help="print the project's declared signals that no test sent and the "
        "receivers that no test ran",
    )
    group.addoption(
        "--signalkit-report-json",
        metavar="PATH",
        help="write the signal coverage report to PATH as JSON",
    )
    group.addoption(
        "--signalkit-fail-under",
        metavar="PERCENT",
        type=float,
        help="fail the session when less than PERCENT of the project's signals "
        "were sent and receivers run",
    )


def _report_wanted(config: pytest.Config) -> bool:
    return bool(
        config.getoption("signalkit_report")
        or config.getoption("signalkit_report_json")
        or config.getoption("signalkit_fail_under") is not None
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*signals, sender=None, receiver=None): mute these signals "
        "(dotted registry names or signal objects) for the test: their "
        "receivers do not run; only for sender, only receiver, when given "
        "(signalkit).",
    )


@pytest.fixture
def signals() -> Iterator[Capture]:
    """A capture of every signal sent during the test (signalkit).

    Use ``signals.assert_sent(...)``, ``signals.assert_not_sent(...)`` and
    ``signals.sends``.
    """
    from signalkit.testing import capture

    with capture() as captured:
        yield captured


@pytest.fixture(autouse=True)
def _signalkit_mute_signals(request: pytest.FixtureRequest) -> Iterator[None]:
    """Apply ``@pytest.mark.mute_signals(...)`` (signalkit).

    Each marker (on the test, its class or module) is one :func:`mute`, with
    its ``sender=`` and ``receiver=`` options.
    """
    markers = list(request.node.iter_markers(MARKER))
    if not markers:
        yield
        return
    from contextlib import ExitStack

    from signalkit.exceptions import UnknownSignalError

    problem: str | None = None
    mutes: list[mute] = []
    try:
        mutes = marker_mutes(markers)
    except (UnknownSignalError, TypeError) as error:
        problem = f"@pytest.mark.{MARKER}: {error}"
    if problem is not None:
        # Outside the except block, so the report does not chain the lookup error.
        pytest.fail(problem, pytrace=False)
    with ExitStack() as stack:
        for each in mutes:
            stack.enter_context(each)
        yield


def marker_mutes(markers: list[pytest.Mark]) -> list[mute]:
    """One :func:`~signalkit.testing.mute` per ``mute_signals`` marker, its
    signals looked up now.

    :raises TypeError: naming an option ``mute`` does not take.
    :raises signalkit.exceptions.UnknownSignalError: for an unknown name.
    """
    from signalkit.testing import mute, resolve_signals

    mutes = []
    for marker in markers:
        unknown = sorted(set(marker.kwargs) - {"sender", "receiver"})
        if unknown:
            raise TypeError(
                f"unknown option {', '.join(unknown)} (it takes sender= and receiver=)."
            )
        resolve_signals(marker.args)
        mutes.append(mute(*marker.args, **marker.kwargs))
    return mutes


@pytest.fixture(scope="session", autouse=True)
def _signalkit_signal_coverage(request: pytest.FixtureRequest) -> Iterator[None]:
    """Note what the tests send and run, for ``--signalkit-report`` (signalkit)."""
    config = request.config
    if not _report_wanted(config):
        yield
        return
    from signalkit.signal_coverage import SignalCoverage

    coverage = SignalCoverage()
    coverage.install()
    config.stash[_coverage_key] = coverage
    yield
    coverage.uninstall()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    coverage = config.stash.get(_coverage_key, None)
    if coverage is None:
        return
    from signalkit.signal_coverage import build_report

    report = build_report(coverage)
    config.stash[_report_key] = report
    path = config.getoption("signalkit_report_json")
    if path:
        report.write(path if path.endswith(".json") else f"{path}.json")
    threshold = config.getoption("signalkit_fail_under")
    if (
        threshold is not None
        and report.percent < threshold
        and session.exitstatus == pytest.ExitCode.OK
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    report = config.stash.get(_report_key, None)
    if report is None:
        return
    terminalreporter.section("signalkit signal coverage")
    if config.getoption("signalkit_report"):
        terminalreporter.write(report.as_text())
    else:
        terminalreporter.write_line(report.summary())
    threshold = config.getoption("signalkit_fail_under")
    if threshold is not None and report.percent < threshold:
        terminalreporter.write_line(
            f"FAIL: signal coverage {report.percent}% is under "
            f"--signalkit-fail-under={threshold:g}%",
            red=True,
        )
