"""Run Django's own signal-related test suites under signalkit.

Design rule: signalkit must not change ``django.dispatch`` semantics, recording
or not, and whoever else patches it. This script proves it against the
installed Django version:

1. it downloads Django's sdist for ``django.__version__`` from PyPI and
   extracts its ``tests/`` directory (cached in ``.cache/django-src/VERSION/``);
2. it runs ``tests/runtests.py`` on :data:`LABELS` (``dispatch``,
   ``signals``, ``m2m_signals``, ``delete``, ``auth_tests.test_signals``,
   ``requests_tests``, ``test_client_regress``) with ``--parallel=1``, in a
   subprocess per mode:

   * ``plain``: Django's own ``test_sqlite`` settings, signalkit not involved;
   * ``record``: ``django_suite_settings`` (``test_sqlite`` plus
     ``TEST_RUNNER = "django_suite_runner.RecordingRunner"``), whose runner
     wraps the whole ``run_tests()`` in ``signalkit.record()``;
   * ``record+mute``: the same, plus ``muting()`` of a fresh, unrelated
     signal;
   * ``sentry``: sentry-sdk's Django integration (``signals_spans=True``,
     every transaction sampled, envelopes dropped in memory), no recording;
   * ``record+sentry``: sentry-sdk set up inside the recording, so that its
     patch of ``Signal._live_receivers`` goes on top of signalkit's;
   * ``record+trace``: the recording plus signalkit's OpenTelemetry tracer,
     with a sampled span around the whole run (so every send makes spans),
     and the slow-receiver log;

3. it fails unless every mode runs the same tests with the same outcomes as
   its baseline (``plain``, or ``sentry`` for the sentry modes), every mode
   but the sentry ones passes (sentry-sdk's wrappers show in the responses,
   which some of Django's tests compare),
   and the recording modes really recorded sends made by the suites' own
   test files. Without sentry-sdk installed the sentry modes are skipped
   (``SIGNALKIT_REQUIRE_SENTRY=1`` makes that a failure).

Run it with the Python whose Django and signalkit are to be checked:
``python scripts/django_suite.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import django

SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPTS_DIR.parent
CACHE_DIR = REPO_ROOT / ".cache" / "django-src"
LABELS = (
    "dispatch",
    "signals",
    "m2m_signals",
    "delete",
    "auth_tests.test_signals",
    "requests_tests",
    "test_client_regress",
)
MODES = ("plain", "record", "record+mute", "sentry", "record+sentry", "record+trace")
SENTRY_MODES = ("sentry", "record+sentry")
RECORDING_MODES = ("record", "record+mute", "record+sentry", "record+trace")
TRACE_MODES = ("record+trace",)
REPORT_PREFIX = "signalkit-suite-report: "  # as in django_suite_runner

_RAN = re.compile(r"^Ran (\d+) tests? in ", re.MULTILINE)
_STATUS = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$", re.MULTILINE)
# "test_x (app.tests.Case.test_x)", possibly after unflushed text on the line.
_TEST_HEADER = re.compile(r"\b(\w+) \(([\w.]+\.\1)\)")
_OUTCOME = re.compile(
    r" \.\.\. (ok|skipped|FAIL|ERROR|expected failure|unexpected success)\b"
)


def django_tests_dir(version: str) -> Path:
    """The extracted ``tests/`` directory of Django *version*'s sdist."""
    target = CACHE_DIR / version / "tests"
    if (target / "runtests.py").is_file():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        download = Path(tmp) / "download"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"django=={version}",
                "-d",
                str(download),
            ],
            check=True,
        )
        (sdist,) = download.glob("*.tar.gz")
        extracted = Path(tmp) / "extracted"
        with tarfile.open(sdist) as archive:
            members = [
                member
                for member in archive.getmembers()
                if member.name.split("/")[1:2] == ["tests"]
            ]
            if hasattr(tarfile, "data_filter"):
                archive.extractall(extracted, members=members, filter="data")
            else:  # pragma: no cover - Pythons without PEP 706
                archive.extractall(extracted, members=members)
        (tests,) = extracted.glob("*/tests")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Atomic, so a concurrent run never sees a half-extracted tree.
            tests.rename(target)
        except OSError:
            if not (target / "runtests.py").is_file():
                raise
    return target


@dataclass
class Result:
    mode: str
    returncode: int
    ran: int | None = None
    status: str = "?"
    details: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    report: dict[str, object] | None = None
    output: str = ""

    def summary(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in sorted(self.details.items()))
        text = f"{self.mode:<12} exit={self.returncode} ran={self.ran} {self.status}"
        if details:
            text += f" ({details})"
        if self.report is not None:
            text += (
                f"; recorded {self.report['sends']} sends,"
                f" {self.report['sends_from_suites']} from the suites' files"
            )
            if "spans" in self.report:
                text += f"; {self.report['spans']} spans"
        return text


def parse(mode: str, returncode: int, output: str) -> Result:
    result = Result(mode, returncode, output=output)
    if ran := _RAN.findall(output):
        result.ran = int(ran[-1])
    if status := _STATUS.findall(output):
        result.status, details = status[-1]
        for item in filter(None, (part.strip() for part in details.split(","))):
            key, _, value = item.partition("=")
            result.details[key] = int(value)
    current: str | None = None
    for line in output.splitlines():
        if header := _TEST_HEADER.search(line):
            current = header.group(2)
        if current is not None and (outcome := _OUTCOME.search(line)):
            result.outcomes[current] = outcome.group(1)
            current = None
        if line.startswith(REPORT_PREFIX):
            result.report = json.loads(line[len(REPORT_PREFIX) :])
    return result


def run_mode(mode: str, tests_dir: Path) -> Result:
    # Unbuffered, so runtests' stdout and the test results on stderr interleave
    # in the order they were written.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if mode == "plain":
        settings = "test_sqlite"
    else:
        settings = "django_suite_settings"
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, (str(SCRIPTS_DIR), env.get("PYTHONPATH")))
        )
        env["SIGNALKIT_SUITE_MODE"] = mode
        env["SIGNALKIT_SUITE_TESTS_DIR"] = str(tests_dir)
    command = [
        sys.executable,
        str(tests_dir / "runtests.py"),
        *LABELS,
        f"--settings={settings}",
        "--parallel=1",
        "--verbosity=2",
    ]
    print(f"\n===== {mode}: {' '.join(command[1:])}", flush=True)
    completed = subprocess.run(
        command,
        cwd=tests_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    # The output is printed at the end, for the modes with a problem only:
    # the sentry modes' expected failures would drown the log otherwise.
    return parse(mode, completed.returncode, completed.stdout)


def baseline_of(result: Result, results: list[Result]) -> Result:
    """The mode *result* is compared with: ``sentry`` for the sentry modes."""
    wanted = "sentry" if result.mode in SENTRY_MODES else "plain"
    return next(each for each in results if each.mode == wanted)


def problems_of(results: list[Result]) -> list[str]:
    problems: list[str] = []
    for result in results:
        baseline = baseline_of(result, results)
        # sentry-sdk's wrappers show in the responses, which some of Django's
        # tests compare: the sentry modes must match each other, not pass.
        if result.mode not in SENTRY_MODES and (
            result.returncode != 0 or result.status != "OK"
        ):
            problems.append(f"{result.mode}: the suites failed")
        if not result.ran:
            problems.append(f"{result.mode}: no tests ran")
        if len(result.outcomes) != result.ran:
            problems.append(
                f"{result.mode}: parsed {len(result.outcomes)} test outcomes,"
                f" but {result.ran} tests ran"
            )
        if result.mode == "plain":
            if result.report is not None:
                problems.append("plain: signalkit's runner ran in the baseline")
            continue
        report = result.report
        if report is None:
            problems.append(f"{result.mode}: signalkit's runner printed no report")
        elif result.mode not in RECORDING_MODES:
            if report["mode"] != result.mode or report["patched"]:
                problems.append(f"{result.mode}: unexpected report {report}")
        elif not (
            report["mode"] == result.mode
            and report["patched"]
            and report["unpatched_after"]
            and isinstance(report["sends"], int)
            and report["sends"] > 0
            and isinstance(report["sends_from_suites"], int)
            and report["sends_from_suites"] > 0
            and report["dropped"] == 0
        ):
            problems.append(f"{result.mode}: the recorder was not active: {report}")
        elif result.mode in TRACE_MODES and not (
            isinstance(report.get("spans"), int) and report["spans"] > 0
        ):
            problems.append(f"{result.mode}: the tracer made no span: {report}")
        if (result.ran, result.details) != (baseline.ran, baseline.details):
            problems.append(
                f"{result.mode}: counts differ from plain:"
                f" ran={result.ran} {result.details} vs"
                f" ran={baseline.ran} {baseline.details}"
            )
        for test in sorted(set(baseline.outcomes) | set(result.outcomes)):
            mine = result.outcomes.get(test)
            theirs = baseline.outcomes.get(test)
            if mine != theirs:
                problems.append(f"{result.mode}: {test} was {mine}, plain: {theirs}")
    return problems


def main() -> int:
    version = django.__version__
    tests_dir = django_tests_dir(version)
    print(f"Django {version} from {Path(django.__file__).parent}")
    print(f"Django's tests from {tests_dir}")
    modes = MODES
    if importlib.util.find_spec("sentry_sdk") is None:
        if os.environ.get("SIGNALKIT_REQUIRE_SENTRY") == "1":
            print("PROBLEM: sentry-sdk is not installed")
            return 1
        print("sentry-sdk is not installed: the sentry modes are skipped")
        modes = tuple(mode for mode in modes if mode not in SENTRY_MODES)
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        if os.environ.get("SIGNALKIT_REQUIRE_OTEL") == "1":
            print("PROBLEM: opentelemetry-sdk is not installed")
            return 1
        print("opentelemetry-sdk is not installed: the trace modes are skipped")
        modes = tuple(mode for mode in modes if mode not in TRACE_MODES)
    results = [run_mode(mode, tests_dir) for mode in modes]
    print(f"\n===== Django {version}, Python {sys.version.split()[0]}")
    for result in results:
        print(result.summary())
    if signalkit_file := next(
        (r.report["signalkit"] for r in results if r.report is not None), None
    ):
        print(f"signalkit from {signalkit_file}")
    problems = problems_of(results)
    for result in results:
        if any(problem.startswith(f"{result.mode}:") for problem in problems):
            print(f"\n===== {result.mode}: the output of Django's runner")
            print(result.output, end="", flush=True)
        else:
            lines = result.output.count("\n")
            print(f"{result.mode}: {lines} lines of output, shown only on a problem")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("FAILED" if problems else "OK: identical results in every mode")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
