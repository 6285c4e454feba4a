"""Say what a test run skipped and why, from pytest's JUnit XML reports.

``make test`` runs it last, so that the skips of the main suite and of the
example project's suite (a missing browser, redis-server, PostgreSQL...) are
the last thing it prints instead of a count lost in the scroll-back::

    python scripts/skipped.py .reports/pytest.xml .reports/example.xml
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree


def skips(report: Path) -> Counter[str]:
    """How many tests of *report* were skipped, by reason."""
    reasons: Counter[str] = Counter()
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            reason = skipped.get("message", "").removeprefix("Skipped: ")
            reasons[reason or "(no reason given)"] += 1
    return reasons


def summary(reports: list[Path]) -> str:
    lines = []
    for report in reports:
        if not report.exists():
            lines.append(f"{report}: no report (the run did not finish)")
            continue
        reasons = skips(report)
        total = sum(reasons.values())
        if not total:
            lines.append(f"{report}: nothing skipped")
            continue
        lines.append(f"{report}: {total} skipped")
        lines += [
            f"  {count:4d} x {reason}" for reason, count in sorted(reasons.items())
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    print("Skipped tests, and why:")
    print(summary([Path(argument) for argument in argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
