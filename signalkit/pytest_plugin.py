"""signalkit's pytest plugin, loaded through the ``pytest11`` entry point.

* the ``signals`` fixture: a :class:`signalkit.testing.Capture` of every
  signal the test sends;
* the ``mute_signals`` marker: ``@pytest.mark.mute_signals("dotted.name",
  ...)`` mutes those signals for the test and its function-scoped fixtures.

Nothing here imports Django or signalkit's Django-dependent modules at import
time: pytest loads the plugin before pytest-django configures settings, so
every lookup happens inside a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from signalkit.testing import Capture

MARKER = "mute_signals"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*signals): mute these signals (dotted registry names or "
        "signal objects) for the test: their receivers do not run "
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
    """Apply ``@pytest.mark.mute_signals(...)`` (signalkit)."""
    names = [
        signal for marker in request.node.iter_markers(MARKER) for signal in marker.args
    ]
    if not names:
        yield
        return
    from signalkit.exceptions import UnknownSignalError
    from signalkit.testing import mute, resolve_signals

    problem: str | None = None
    try:
        resolve_signals(names)
    except (UnknownSignalError, TypeError) as error:
        problem = f"@pytest.mark.{MARKER}: {error}"
    if problem is not None:
        # Outside the except block, so the report does not chain the lookup error.
        pytest.fail(problem, pytrace=False)
    with mute(*names):
        yield
