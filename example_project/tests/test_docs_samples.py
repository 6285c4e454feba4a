"""Every sample output in docs/ comes from this project.

Each test runs the command a page shows, as a user would (``python manage.py
...`` in a fresh process), and compares its output with the file under
``docs/_generated/`` that the page includes. A difference fails the test;
``SIGNALKIT_UPDATE_DOCS=1`` rewrites the files instead.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import textwrap
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


def manage(*args: str, ok: bool = True, project: Path = EXAMPLE) -> str:
    """Run ``python manage.py ARGS`` in the example project; stdout + stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env={**os.environ, "COLUMNS": COLUMNS, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode == 0) is ok, result.stderr
    return result.stdout + result.stderr


def portable(text: str, project: Path = EXAMPLE) -> str:
    """The output without what differs between machines and runs."""
    text = text.replace(str(project), "/path/to/example_project")
    text = re.sub(r" at 0x[0-9a-f]+>", " at 0x7f3c3eda1120>", text)
    # Django 5.2 keeps only the id() of a sender it cannot name.
    return re.sub(r"<sender id \d+>", "<sender id ...>", text)


def check_sample(name: str, text: str) -> None:
    path = GENERATED / name
    if UPDATE:
        path.write_text(text)
        return
    assert path.exists(), f"docs/_generated/{name} is missing: {how_to_update()}"
    assert path.read_text() == text, (
        f"docs/_generated/{name} is stale: {how_to_update()}"
    )


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
    for args in (
        ["--signal", "blog.signals.post_publishd"],
        ["--signal", "user_signedup"],
        ["--app", "blgo"],
    ):
        lines.append(f"$ python manage.py signals {' '.join(args)}\n")
        lines.append(manage("signals", *args, ok=False))
    check_sample("catalog-errors.txt", "".join(lines))


@pytest.mark.skipif(
    django.VERSION[:2] != DOCS_DJANGO,
    reason=f"the whole catalog's sample is made with Django {DOCS_DJANGO}",
)
def test_whole_catalog_sample_is_the_commands_output() -> None:
    check_sample("catalog-all.txt", portable(manage("signals")))


def copy_of_the_project(tmp_path: Path) -> Path:
    """A copy of the example project, to break on purpose."""
    project = tmp_path / "example_project"
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", "tests"),
    )
    return project


def test_w002_sample_is_what_check_says_of_a_module_imported_twice(
    tmp_path: Path,
) -> None:
    """blog/signals.py imported again as the top-level module ``signals``."""
    project = copy_of_the_project(tmp_path)
    signals_py = project / "blog" / "signals.py"
    relative = "from .models import Post, SearchEntry\n"
    assert relative in signals_py.read_text()
    signals_py.write_text(
        signals_py.read_text().replace(
            relative, "from blog.models import Post, SearchEntry\n"
        )
    )
    admin_py = project / "blog" / "admin.py"
    admin_py.write_text(
        admin_py.read_text() + "\n\nimport sys  # noqa: E402\n\n"
        "# The app's own directory on sys.path: signals.py gets a second name.\n"
        "sys.path.append(__file__.rpartition('/')[0])\n"
        "import signals  # noqa: E402, F401\n"
    )

    output = manage("check", "--tag", "signals", ok=True, project=project)

    check_sample("check-w002.txt", portable(output, project))


def test_w001_sample_is_what_check_says_of_a_misspelt_receiver(
    tmp_path: Path,
) -> None:
    """The tutorial's story: notify_followers asks for 'author', not 'user'."""
    project = copy_of_the_project(tmp_path)
    signals_py = project / "blog" / "signals.py"
    source = signals_py.read_text()
    signature = "def notify_followers(sender: type[Post], post: Post, user: User,"
    assert signature in source
    signals_py.write_text(
        source.replace(
            signature,
            "def notify_followers(sender: type[Post], post: Post, author: User,",
        )
    )

    output = manage("check", "--tag", "signals", ok=True, project=project)

    check_sample("check-w001.txt", portable(output, project))


def test_panel_snippet_keeps_every_default_panel_of_the_toolbar() -> None:
    expected = [
        "signalkit.panels.SignalkitPanel"
        if panel == "debug_toolbar.panels.signals.SignalsPanel"
        else panel
        for panel in PANELS_DEFAULTS
    ]

    panels = settings.DEBUG_TOOLBAR_PANELS

    assert panels == expected
    assert "debug_toolbar.panels.signals.SignalsPanel" not in expected
    # docs/panel.rst shows the settings' lines between these markers.
    panel_rst = (DOCS / "panel.rst").read_text()
    assert "../example_project/example/settings.py" in panel_rst
    assert ":start-after: # [panels-start]" in panel_rst
    assert ":end-before: # [panels-end]" in panel_rst


@pytest.mark.django_db
def test_tutorial_shell_sessions_print_what_they_show() -> None:
    """docs/tutorial.rst's ``pycon`` blocks, run as doctests in this project."""
    text = (DOCS / "tutorial.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: pycon\n\n((?:    .*\n|\n)+)", text)
    assert blocks, "docs/tutorial.rst has no pycon block"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for number, block in enumerate(blocks):
        runner.run(
            parser.get_doctest(
                textwrap.dedent(block), {}, f"pycon block {number + 1}", None, 0
            ),
            out=report.append,
        )

    assert runner.tries >= 5
    assert runner.failures == 0, "".join(report)
