"""Signal coverage: the project's signals no test sent, receivers no test ran.

A :class:`SignalCoverage` is a process-wide observer of the send-event
pipeline: while it is installed, it notes every signal sent and every
receiver that ran, in any thread. :func:`build_report` compares that with
the registry: the *project's* signals (declared with
:class:`signalkit.Signal` or :meth:`registry.register()
<signalkit.registry.Registry.register>`, in a module of the project, not of
Django, signalkit or an installed distribution) and the receivers the project
connected (to any signal, Django's included).

pytest gets it through ``--signalkit-report`` (see
:mod:`signalkit.pytest_plugin`); any other runner, such as ``manage.py
test``, through the ``SIGNALKIT_REPORT`` environment variable, a path the
report is written to when the process exits.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakSet

from django.dispatch import Signal as DjangoSignal

from signalkit import pipeline
from signalkit.naming import real_receiver, receiver_name
from signalkit.recording import signal_label
from signalkit.registry import registry

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "Report",
    "SignalCoverage",
    "build_report",
    "report_from_environment",
]

ENVIRONMENT_VARIABLE = "SIGNALKIT_REPORT"

# Modules that are never the project's, wherever they are installed.
_NOT_THE_PROJECT = ("django.", "signalkit.")


class SignalCoverage(pipeline.Observer):
    """Notes the signals sent and the receivers run while it is installed."""

    def __init__(self) -> None:
        self.sent: WeakSet[DjangoSignal] = WeakSet()
        self.ran: set[tuple[str, str]] = set()
        """(signal name, receiver name) of each receiver that ran."""

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        self.sent.add(signal)
        return True

    def send_started(self, send: pipeline.Send) -> _CoveredSend:
        self.sent.add(send.signal)
        return _CoveredSend(self, send)

    def install(self) -> None:
        """Start observing every send, in every thread."""
        pipeline.add_observer(self)

    def uninstall(self) -> None:
        pipeline.remove_observer(self)


class _CoveredSend(pipeline.SendObserver):
    __slots__ = ("_coverage", "_send")

    # What ran is read from the send once it ends: nothing per receiver.
    per_receiver = False

    def __init__(self, coverage: SignalCoverage, send: pipeline.Send) -> None:
        self._coverage = coverage
        self._send = send

    def send_finished(self, error: BaseException | None) -> None:
        send = self._send
        signal = send.signal_name
        for receiver, started in zip(
            send.receivers, send.receiver_started_ns, strict=False
        ):
            if started is not None:
                self._coverage.ran.add((signal, receiver_name(receiver)))


@dataclass(frozen=True)
class Report:
    """What the tests sent and ran of the project's signals and receivers."""

    signals_sent: list[str]
    signals_not_sent: list[str]
    receivers_ran: list[tuple[str, str]]
    """(signal name, receiver name) pairs, in name order."""
    receivers_not_run: list[tuple[str, str]]

    @property
    def percent(self) -> float:
        """The share of signals sent and receivers run, 100.0 when there are none."""
        covered = len(self.signals_sent) + len(self.receivers_ran)
        total = covered + len(self.signals_not_sent) + len(self.receivers_not_run)
        return 100.0 if not total else round(100 * covered / total, 1)

    def summary(self) -> str:
        signals = len(self.signals_sent) + len(self.signals_not_sent)
        receivers = len(self.receivers_ran) + len(self.receivers_not_run)
        return (
            f"signalkit signal coverage: {len(self.signals_sent)} of {signals} "
            f"declared signals sent, {len(self.receivers_ran)} of {receivers} "
            f"receivers ran ({self.percent}%)"
        )

    def as_text(self) -> str:
        lines = [self.summary()]
        if self.signals_not_sent:
            lines.append("Declared signals no test sent:")
            lines += [f"  {name}" for name in self.signals_not_sent]
        if self.receivers_not_run:
            lines.append("Receivers no test ran:")
            lines += [
                f"  {receiver}  ({signal})"
                for signal, receiver in self.receivers_not_run
            ]
        return "\n".join(lines) + "\n"

    def as_json(self) -> str:
        def pairs(found: list[tuple[str, str]]) -> list[dict[str, str]]:
            return [{"signal": signal, "receiver": name} for signal, name in found]

        return (
            json.dumps(
                {
                    "percent": self.percent,
                    "signals": {
                        "sent": self.signals_sent,
                        "not_sent": self.signals_not_sent,
                    },
                    "receivers": {
                        "ran": pairs(self.receivers_ran),
                        "not_run": pairs(self.receivers_not_run),
                    },
                },
                indent=2,
            )
            + "\n"
        )

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the report to *path*: JSON when it ends with ``.json``."""
        path = Path(path)
        path.write_text(self.as_json() if path.suffix == ".json" else self.as_text())


def _installed_paths() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(
        {os.path.realpath(paths[name]) + os.sep for name in ("purelib", "platlib")}
    )


def in_project(module_name: str | None) -> bool:
    """Whether *module_name* is the project's: not Django's, signalkit's or a
    module of an installed distribution (in site-packages)."""
    if not module_name or module_name.startswith(_NOT_THE_PROJECT):
        return False
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    return path is None or not os.path.realpath(path).startswith(_installed_paths())


def build_report(coverage: SignalCoverage) -> Report:
    """Compare what *coverage* saw with the registry, as it is now."""
    sent = {signal_label(signal) for signal in coverage.sent}
    signals = [
        entry.name
        for entry in registry
        if entry.declared and not entry.builtin and in_project(entry.module)
    ]
    receivers = sorted(
        {
            (entry.name, info.name)
            for entry in registry
            for info in entry.receivers()
            if info.receiver is not None
            and in_project(getattr(real_receiver(info.receiver), "__module__", None))
        }
    )
    return Report(
        signals_sent=[name for name in signals if name in sent],
        signals_not_sent=[name for name in signals if name not in sent],
        receivers_ran=[pair for pair in receivers if pair in coverage.ran],
        receivers_not_run=[pair for pair in receivers if pair not in coverage.ran],
    )


def report_from_environment() -> SignalCoverage | None:
    """With ``SIGNALKIT_REPORT=<path>`` set, observe every send from now on
    and write the report to that path when the process exits."""
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if not path:
        return None
    coverage = SignalCoverage()
    coverage.install()
    atexit.register(lambda: build_report(coverage).write(path))
    return coverage
