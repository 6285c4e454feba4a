"""Every sample output in docs/ comes from this project.

Each test runs the command a page shows, as a user would (``python manage.py
...`` in a fresh process), or the code it shows, and compares the output with
the block of the page named after the sample (``.. sample: NAME``; see
``scripts/docs_samples.py``). A difference fails the test; ``python
scripts/docs_samples.py --write`` (``make docs-samples``) rewrites the blocks.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import django
import pytest
from debug_toolbar.settings import PANELS_DEFAULTS
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from docs_samples import check_pycon, check_sample, sample_names

from blog import services
from blog.models import Post
from blog.signals import post_published
from signalkit.testing import capture

EXAMPLE = Path(__file__).resolve().parent.parent
DOCS = EXAMPLE.parent / "docs"

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


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("catalog-app-blog", ["--app", "blog"]),
        (
            "catalog-user-signed-up",
            ["--signal", "accounts.signals.user_signed_up", "--format", "json"],
        ),
        ("catalog-app-blog-mermaid", ["--app", "blog", "--format", "mermaid"]),
    ],
)
def test_catalog_samples_are_the_commands_output(name: str, args: list[str]) -> None:
    check_sample(name, portable(manage("signals", *args)))


def test_tutorial_catalog_sample_is_the_commands_output() -> None:
    args = ["--signal", "blog.signals.post_published"]

    output = portable(manage("signals", *args))

    check_sample(
        "catalog-post-published",
        f"$ python manage.py signals {' '.join(args)}\n{output}",
    )


def test_catalog_error_samples_are_the_commands_output() -> None:
    lines = []
    for args in (
        ["--signal", "blog.signals.post_publishd"],
        ["--signal", "user_signedup"],
        ["--app", "blgo"],
    ):
        lines.append(f"$ python manage.py signals {' '.join(args)}\n")
        lines.append(manage("signals", *args, ok=False))
    check_sample("catalog-errors", "".join(lines))


@pytest.mark.skipif(
    django.VERSION[:2] != DOCS_DJANGO,
    reason=f"the whole catalog's sample is made with Django {DOCS_DJANGO}",
)
def test_whole_catalog_sample_is_the_commands_output() -> None:
    check_sample("catalog-all", portable(manage("signals")))


def check_output_of_a_changed_copy(
    tmp_path: Path, path: str, change: Callable[[str], str], *args: str
) -> str:
    """``manage.py check ARGS`` in a copy of the project whose file *path*
    (relative to the project) is changed by *change*."""
    project = copy_of_the_project(tmp_path)
    changed = project / path
    changed.write_text(change(changed.read_text()))
    return portable(manage("check", *args, project=project), project)


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

    check_sample("check-w002", portable(output, project))


def test_w001_sample_is_what_check_says_of_a_misspelt_receiver(
    tmp_path: Path,
) -> None:
    """The tutorial's story: notify_followers asks for 'author', not 'user'."""
    signature = "def notify_followers(sender: type[Post], post: Post, user: User,"

    def ask_for_author(source: str) -> str:
        assert signature in source
        return source.replace(signature, signature.replace("user:", "author:"))

    output = check_output_of_a_changed_copy(
        tmp_path, "blog/signals.py", ask_for_author, "--tag", "signals"
    )

    check_sample("check-w001", output)
    check_sample(
        "tutorial-check-w001", f"$ python manage.py check --tag signals\n{output}"
    )


def test_w002_sample_is_what_check_says_of_one_receiver_under_two_keys(
    tmp_path: Path,
) -> None:
    """notify_followers connected again with a dispatch_uid: two mails a post."""
    output = check_output_of_a_changed_copy(
        tmp_path,
        "blog/signals.py",
        lambda source: (
            source + "\n\npost_published.connect(notify_followers, "
            'dispatch_uid="notify-followers")\n'
        ),
        "--tag",
        "signals",
    )

    check_sample("check-w002-keys", output)


def test_w004_sample_is_what_check_says_of_a_misspelt_setting(
    tmp_path: Path,
) -> None:
    output = check_output_of_a_changed_copy(
        tmp_path,
        "example/settings.py",
        lambda source: source + "\nSIGNALKIT_VALIDATE_ARG = False\n",
    )

    check_sample("check-w004", output)


@pytest.mark.django_db
def test_bad_setting_sample_is_what_the_first_send_raises(alice: User) -> None:
    post = Post(author=alice, title="Hello")

    with (
        override_settings(SIGNALKIT_VALIDATE_ARGS="no"),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        # Without user: only a send that misses its fast path reads the setting.
        post_published.send(sender=Post, post=post)  # type: ignore[call-arg]

    check_sample(
        "settings-improperly-configured",
        f"django.core.exceptions.ImproperlyConfigured: {raised.value}",
    )


@pytest.mark.django_db
def test_assert_sent_failure_sample_is_what_capture_says(
    alice: User, bob: User
) -> None:
    """docs/testing.rst: a test that expected Bob to have published the post."""
    draft = Post.objects.create(author=alice, title="A draft", body="Signals rock")
    with capture("blog.signals.post_published") as signals:
        services.publish(draft, alice)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent("blog.signals.post_published", post=draft, user=bob)

    check_sample("testing-assert-sent", f"AssertionError: {raised.value}")


def test_signal_coverage_sample_is_what_pytest_prints() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_signalkit_testing.py",
            "--signalkit-report",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        cwd=EXAMPLE,
        env={**os.environ, "COLUMNS": COLUMNS},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = next(
        index
        for index, line in enumerate(lines)
        if "signalkit signal coverage =" in line
    )
    end = next(
        index for index in range(start + 1, len(lines)) if lines[index].startswith("=")
    )

    check_sample("testing-signal-coverage", "\n".join(lines[start:end]))


@pytest.mark.django_db
def test_slow_receiver_sample_is_what_the_log_says(
    alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/observability.rst: the WARNING for a slow notify_followers.

    Every receiver is slow under a threshold of a nanosecond; the sample then
    shows the documented threshold and a plausible duration in the record's
    own message.
    """
    draft = Post.objects.create(author=alice, title="A draft", body="Signals rock")
    with (
        override_settings(SIGNALKIT_SLOW_RECEIVER_MS=0.000001),
        caplog.at_level(logging.WARNING, logger="signalkit.slow"),
    ):
        services.publish(draft, alice)
    (record,) = [
        record
        for record in caplog.records
        if getattr(record, "receiver", None) == "blog.signals.notify_followers"
    ]
    receiver, _, _, signal, site = record.args  # type: ignore[misc]

    check_sample(
        "slow-receiver-log",
        portable(record.msg % (receiver, 312.4, 200, signal, site)),
    )


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


def test_panel_snippet_is_the_example_projects_setting() -> None:
    source = (EXAMPLE / "example" / "settings.py").read_text()
    setting = source.split("# [panels-start]\n")[1].split("# [panels-end]")[0]

    check_sample(
        "panel-settings",
        "from debug_toolbar.settings import PANELS_DEFAULTS\n" + setting,
    )


# Made by tests/test_tracing.py.
ELSEWHERE = {"trace"}
MADE_HERE = {
    "catalog-all",
    "catalog-app-blog",
    "catalog-app-blog-mermaid",
    "catalog-errors",
    "catalog-post-published",
    "catalog-user-signed-up",
    "check-w001",
    "check-w002",
    "check-w002-keys",
    "check-w004",
    "panel-settings",
    "settings-improperly-configured",
    "slow-receiver-log",
    "testing-assert-sent",
    "testing-signal-coverage",
    "tutorial-check-w001",
}


def test_every_sample_of_every_page_is_made_by_a_test() -> None:
    assert sample_names() == MADE_HERE | ELSEWHERE


def test_no_page_includes_a_file_for_its_samples() -> None:
    including = [
        page.name
        for page in DOCS.glob("*.rst")
        if ".. literalinclude::" in page.read_text()
    ]

    assert including == []


@pytest.mark.django_db
def test_tutorial_shell_sessions_print_what_they_show() -> None:
    """docs/tutorial.rst's ``pycon`` blocks, run as doctests in this project."""
    assert check_pycon("tutorial.rst", {}) >= 5


@pytest.mark.django_db
def test_registry_shell_session_prints_what_it_shows() -> None:
    assert check_pycon("registry.rst", {}) >= 5


@pytest.mark.django_db
def test_argument_errors_on_the_signals_page_are_what_a_send_raises(
    alice: User,
) -> None:
    """docs/signals.rst's sends, with the names its prose defines."""
    post = Post.objects.create(author=alice, title="Hello")
    names = {"post_published": post_published, "Post": Post, "post": post}

    assert check_pycon("signals.rst", {**names, "user": alice}) >= 2


# scripts/docs_samples.py itself, on a page of its own

PAGE = """\
Title
=====

.. sample: greeting

.. code-block:: text

    Hello, {name}!
    Bye.

After the block.

.. code-block:: pycon

    >>> 1 + 1
    {sum}
    >>> {{}}["missing"]
    Traceback (most recent call last):
      ...
    KeyError: {key}

    Between examples.
"""


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # `make docs-samples` sets it for the whole run; these tests check both modes.
    monkeypatch.delenv("SIGNALKIT_UPDATE_DOCS", raising=False)
    (tmp_path / "page.rst").write_text(PAGE.format(name="Ada", sum=3, key="'lost'"))
    return tmp_path


def test_a_stale_sample_fails_naming_the_page_and_line(docs: Path) -> None:
    with pytest.raises(AssertionError, match=r"'greeting' is stale in docs/page.rst:8"):
        check_sample("greeting", "Hello, Grace!\nBye.\n", docs=docs)


def test_a_sample_no_page_has_fails(docs: Path) -> None:
    with pytest.raises(AssertionError, match="no page has the sample 'farewell'"):
        check_sample("farewell", "Bye.", docs=docs)


def test_writing_rewrites_the_stale_sample_and_its_page_only(
    docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNALKIT_UPDATE_DOCS", "1")

    check_sample("greeting", "Hello, Grace!\nBye.\n", docs=docs)

    assert (docs / "page.rst").read_text() == PAGE.format(
        name="Grace", sum=3, key="'lost'"
    )


def test_pycon_blocks_run_as_doctests(docs: Path) -> None:
    with pytest.raises(AssertionError) as raised:
        check_pycon("page.rst", {}, docs=docs)

    assert "Expected:\n    3\nGot:\n    2" in str(raised.value)


def test_writing_rewrites_what_pycon_examples_print(
    docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNALKIT_UPDATE_DOCS", "1")

    assert check_pycon("page.rst", {}, docs=docs) == 2

    assert (docs / "page.rst").read_text() == PAGE.format(
        name="Ada", sum=2, key="'missing'"
    )
    monkeypatch.delenv("SIGNALKIT_UPDATE_DOCS")
    assert check_pycon("page.rst", {}, docs=docs) == 2
