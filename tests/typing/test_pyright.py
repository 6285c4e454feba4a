"""pyright must see the typed-signal samples as mypy does.

The samples are the ``main`` code of ``test_typed_signals.yml``, whose
``# E:`` markers say which lines mypy rejects, with which error code. pyright
(from PyPI, ``pyright[nodejs]``) checks the same code; this test compares its
``--outputjson`` with those markers: an error on exactly the marked lines,
of the rule matching mypy's code, and nothing anywhere else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # comes with pytest-mypy-plugins

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("test_typed_signals.yml")
PYRIGHT = Path(sys.executable).with_name("pyright")

# mypy's error code -> the pyright rule that reports the same mistake.
RULES = {"call-arg": "reportCallIssue", "arg-type": "reportArgumentType"}
MARKER = re.compile(r"# E: .*\[([a-z-]+)\]\s*$")

pytestmark = [
    pytest.mark.skipif(
        "TOX_ENV_NAME" in os.environ,
        reason="checks the source tree's typing once, not per tox environment",
    ),
    pytest.mark.skipif(
        shutil.which(str(PYRIGHT)) is None, reason="pyright is not installed"
    ),
]


def expected_errors(code: str) -> dict[int, str]:
    """Line number -> pyright rule, from the ``# E:`` markers."""
    return {
        number: RULES[marker.group(1)]
        for number, line in enumerate(code.splitlines(), start=1)
        if (marker := MARKER.search(line))
    }


def pyright_errors(code: str, directory: Path) -> dict[int, list[str]]:
    """Line number -> rules of the errors pyright reports for *code*."""
    (directory / "main.py").write_text(code)
    (directory / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "typeCheckingMode": "standard",
                # pyright does not follow hatchling's editable install.
                "extraPaths": [str(ROOT), str(ROOT / "tests")],
            }
        )
    )
    completed = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, "main.py"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    report: dict[str, Any] = json.loads(completed.stdout)
    found: dict[int, list[str]] = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            line = diagnostic["range"]["start"]["line"] + 1
            found.setdefault(line, []).append(diagnostic.get("rule", "(no rule)"))
    return found


@pytest.mark.parametrize(
    "case", yaml.safe_load(CASES.read_text()), ids=lambda case: case["case"]
)
def test_pyright_rejects_exactly_the_lines_mypy_rejects(
    case: dict[str, Any], tmp_path: Path
) -> None:
    expected = expected_errors(case["main"])
    found = pyright_errors(case["main"], tmp_path)

    assert expected, "the samples mark no wrong line"
    assert {line: [rule] for line, rule in expected.items()} == found
