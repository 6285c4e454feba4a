"""Every sample output in docs/ comes from this project.

Each test runs the command a page shows, as a user would (``python manage.py
...`` in a fresh process), and compares its output with the file under
``docs/_generated/`` that the page includes. A difference fails the test;
``SIGNALKIT_UPDATE_DOCS=1`` rewrites the files instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import django
import pytest
from debug_toolbar.settings import PANELS_DEFAULTS
from django.conf import settings

EXAMPLE = Path(__file__).resolve().parent.parent
DOCS = EXAMPLE.parent / "docs"
GENERATED = DOCS / "_generated"
UPDATE = os.environ.get("SIGNALKIT_UPDATE_DOCS") == "1"

# The whole catalog lists Django's own receivers, which differ between Django
# versions: its sample is made with the version `make test` installs.
DOCS_DJANGO = (5, 2)

# Columns of the terminal the table samples are printed for.
COLUMNS = "88"


def manage(*args: str, ok: bool = True) -> str:
    """Run ``python manage.py ARGS`` in the example project; stdout + stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env={**os.environ, "COLUMNS": COLUMNS, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode == 0) is ok, result.stderr
    return result.stdout + result.stderr


def portable(text: str) -> str:
    """The output without what differs between machines and runs."""
    text = text.replace(str(EXAMPLE), "/path/to/example_project")
    # Django 5.2 keeps only the id() of a sender it cannot name.
    return re.sub(r"<sender id \d+>", "<sender id ...>", text)


def check_sample(name: str, text: str) -> None:
    path = GENERATED / name
    if UPDATE:
        path.write_text(text)
        return
    assert path.exists(), f"docs/_generated/{name} is missing: {how_to_update()}"
    assert path.read_text() == text, f"docs/_generated/{name} is stale: {how_to_update()}"


def how_to_update() -> str:
    return (
        "run `cd example_project && SIGNALKIT_UPDATE_DOCS=1 ../.venv/bin/python "
        "-m pytest tests/test_docs_samples.py` and commit the result"
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("catalog-app-blog.txt", ["--app", "blog"]),
        ("catalog-post-published.txt", ["--signal", "blog.signals.post_published"]),
        (
            "catalog-user-signed-up.json",
            ["--signal", "accounts.signals.user_signed_up", "--format", "json"],
        ),
        ("catalog-app-blog.mmd", ["--app", "blog", "--format", "mermaid"]),
    ],
)
def test_catalog_samples_are_the_commands_output(name: str, args: list[str]) -> None:
    check_sample(name, portable(manage("signals", *args)))


def test_catalog_error_samples_are_the_commands_output() -> None:
    lines = []
    for args in (["--signal", "blog.signals.post_publishd"], ["--app", "blgo"]):
        lines.append(f"$ python manage.py signals {' '.join(args)}\n")
        lines.append(manage("signals", *args, ok=False))
    check_sample("catalog-errors.txt", "".join(lines))


@pytest.mark.skipif(
    django.VERSION[:2] != DOCS_DJANGO,
    reason=f"the whole catalog's sample is made with Django {DOCS_DJANGO}",
)
def test_whole_catalog_sample_is_the_commands_output() -> None:
    check_sample("catalog-all.txt", portable(manage("signals")))


def test_panel_snippet_keeps_every_default_panel_of_the_toolbar() -> None:
    expected = [
        "signalkit.panels.SignalkitPanel"
        if panel == "debug_toolbar.panels.signals.SignalsPanel"
        else panel
        for panel in PANELS_DEFAULTS
    ]

    assert settings.DEBUG_TOOLBAR_PANELS == expected
    assert "debug_toolbar.panels.signals.SignalsPanel" not in expected
    # docs/panel.rst shows the settings' lines between these markers.
    panel_rst = (DOCS / "panel.rst").read_text()
    assert "../example_project/example/settings.py" in panel_rst
    assert ":start-after: # [panels-start]" in panel_rst
    assert ":end-before: # [panels-end]" in panel_rst
