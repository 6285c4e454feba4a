from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import signalkit.pytest_plugin
from signalkit.testing import Capture
from testapp.signals import legacy_event, post_published

pytest_plugins = ["pytester"]

TESTS_DIR = Path(__file__).resolve().parent


# The plugin, used by this very test module


def test_signals_fixture_captures_every_signal_of_the_test(signals: Capture) -> None:
    legacy_event.send(sender=None)

    signals.assert_sent(legacy_event, sender=None, times=1)
    assert signals.signals is None


@pytest.mark.mute_signals("testapp.signals.legacy_event")
def test_mute_signals_marker_mutes_the_named_signals(signals: Capture) -> None:
    calls: list[dict[str, Any]] = []

    def log(**kwargs: Any) -> None:
        calls.append(kwargs)

    legacy_event.connect(log)
    try:
        legacy_event.send(sender=None)
    finally:
        legacy_event.disconnect(log)

    assert calls == []
    (send,) = signals.sends
    assert send.muted


@pytest.mark.mute_signals(post_published)
@pytest.mark.mute_signals("testapp.signals.legacy_event")
def test_mute_signals_markers_add_up_and_accept_signal_objects(
    signals: Capture,
) -> None:
    calls: list[str] = []

    def log(**kwargs: Any) -> None:
        calls.append("called")

    legacy_event.connect(log)
    post_published.connect(log)
    try:
        legacy_event.send(sender=None)
        post_published.send(sender=None, post=None, user=None)
    finally:
        legacy_event.disconnect(log)
        post_published.disconnect(log)

    assert calls == []
    assert [send.muted for send in signals.sends] == [True, True]


def test_mute_signals_marker_is_registered(pytestconfig: pytest.Config) -> None:
    markers = pytestconfig.getini("markers")

    assert any(
        line.startswith("mute_signals(*signals, sender=None, receiver=None): ")
        for line in markers
    )


# The plugin in a project of its own, run by pytest in a subprocess


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytest project using the test settings, as pytest-django sees it."""
    pytester.makeini(
        f"""
        [pytest]
        DJANGO_SETTINGS_MODULE = settings
        pythonpath = {TESTS_DIR}
        addopts = -p no:randomly -p no:cacheprovider
        filterwarnings = error
        """
    )
    return pytester


def test_signals_fixture_in_a_project(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        from testapp.signals import post_published

        def test_publish(signals):
            post_published.send(sender=None, post="p", user="u")
            signals.assert_sent(post_published, post="p", user="u")

        def test_not_published(signals):
            signals.assert_sent("testapp.signals.post_published")
        """
    )

    result = project.runpytest_subprocess()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: Expected testapp.signals.post_published to be sent; "
            "it was not.",
        ]
    )


def test_mute_on_a_test_case_class_keeps_its_tests_collected(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        from django.db.models.signals import post_save
        from django.test import TestCase
        from signalkit.testing import mute
        from testapp.models import Post

        calls = []
        post_save.connect(lambda **kwargs: calls.append(1), sender=Post, weak=False)

        @mute(post_save)
        class PostTests(TestCase):
            def setUp(self):
                Post.objects.create(title="in setUp")

            def test_create(self):
                Post.objects.create(title="in the test")
                assert calls == []

            def test_still_muted(self):
                Post.objects.create(title="in the test")
                assert calls == []

        class UnmutedTests(TestCase):
            def test_heard(self):
                Post.objects.create(title="heard")
                assert calls == [1]
        """
    )

    result = project.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=3)


def test_mute_signals_marker_in_a_project(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from testapp.signals import legacy_event

        calls = []
        legacy_event.connect(lambda **kwargs: calls.append(1), weak=False)

        @pytest.mark.mute_signals("testapp.signals.legacy_event")
        def test_muted():
            legacy_event.send(sender=None)
            assert calls == []

        def test_not_muted():
            legacy_event.send(sender=None)
            assert calls == [1]

        @pytest.mark.mute_signals("testapp.signals.legacy_event", senders=1)
        def test_unknown_option():
            pass
        """
    )

    result = project.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.mute_signals: unknown option senders (it takes sender= "
            "and receiver=)."
        ]
    )


def documented_ini() -> str:
    """The minimal pytest configuration that docs/testing.rst shows."""
    text = (TESTS_DIR.parent / "docs" / "testing.rst").read_text()
    found = re.search(r"\.\. code-block:: ini\n\n((?:[ ]{8}.*\n)+)", text)
    assert found is not None, "docs/testing.rst shows no ini block"
    return textwrap.dedent(found.group(1))


def test_documented_minimal_configuration_runs_the_fixture_and_the_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".ini", pytest=documented_ini())
    pytester.makepyfile(
        manage="",
        **{
            "mysite/__init__": "",
            "mysite/settings": "from settings import *  # the test suite's\n",
        },
    )
    pytester.makepyfile(
        test_shop="""
        import pytest
        from django.conf import settings
        from testapp.signals import legacy_event

        calls = []
        legacy_event.connect(lambda **kwargs: calls.append(1), weak=False)

        def test_fixture(signals):
            assert settings.SETTINGS_MODULE == "mysite.settings"
            legacy_event.send(sender=None)
            signals.assert_sent(legacy_event)
            assert calls == [1]

        @pytest.mark.mute_signals("testapp.signals.legacy_event")
        def test_marker(signals):
            legacy_event.send(sender=None)
            assert signals.sends[0].muted
            assert calls == [1]
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(TESTS_DIR))
    # This run's own settings must not leak in: the ini alone names them.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=2)


@pytest.fixture
def fresh_plugin() -> ModuleType:
    """The plugin module, executed again from its file.

    pytest imports entry-point plugins before coverage starts; running the
    module again in-process lets coverage see its top level too.
    """
    spec = importlib.util.spec_from_file_location(
        "signalkit_pytest_plugin_again", signalkit.pytest_plugin.__file__
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(
    pytester: pytest.Pytester, plugin: ModuleType, *args: str
) -> pytest.RunResult:
    """pytest in this process, with Django already set up by this test run."""
    return pytester.runpytest_inprocess(
        "-p",
        "no:signalkit",
        "-p",
        "no:django",
        "-p",
        "no:randomly",
        *args,
        plugins=[plugin],
    )


@pytest.mark.parametrize(
    ("marker_args", "message"),
    [
        (
            '"testapp.signals.legacy_evnt"',
            "@pytest.mark.mute_signals: No signal is registered under the name "
            "'testapp.signals.legacy_evnt'. Did you mean "
            "'testapp.signals.legacy_event'*",
        ),
        (
            '"post_save"',
            "@pytest.mark.mute_signals: No signal is registered under the name "
            "'post_save'. Did you mean 'django.db.models.signals.post_save'*",
        ),
        (
            "42",
            "@pytest.mark.mute_signals: Expected a signal or a dotted signal name, "
            "not 42 (int).",
        ),
    ],
)
def test_mute_signals_marker_with_an_unknown_signal_fails_the_test(
    pytester: pytest.Pytester, fresh_plugin: ModuleType, marker_args: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.mute_signals({marker_args})
        def test_muted():
            pass
        """
    )

    result = run_in_process(pytester, fresh_plugin)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*During handling*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_plugin_loads_without_django_configured(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_nothing_django():
            assert True
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:django", "-p", "no:randomly")

    result.assert_outcomes(passed=1)


# --signalkit-report: the project's signals no test sent, receivers no test ran

SENDS_POST_PUBLISHED = """
    from testapp.signals import post_published

    def test_publish():
        post_published.send(sender=None, post="p", user="u")
    """


def test_signalkit_report_lists_what_no_test_sent_or_ran(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile(SENDS_POST_PUBLISHED)

    result = run_in_process(pytester, fresh_plugin, "--signalkit-report")

    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*signalkit signal coverage*",
            "signalkit signal coverage: * declared signals sent, * receivers ran (*%)",
            "Declared signals no test sent:",
            "  testapp.signals.comment_added",
        ]
    )
    result.stdout.no_fnmatch_line("  testapp.signals.post_published")
    result.stdout.no_fnmatch_line(
        "  testapp.signals.remember_publication  (testapp.signals.post_published)"
    )


def test_signalkit_report_json_writes_the_report(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile(SENDS_POST_PUBLISHED)

    result = run_in_process(pytester, fresh_plugin, "--signalkit-report-json=signals")

    report = json.loads((pytester.path / "signals.json").read_text())
    assert "testapp.signals.post_published" in report["signals"]["sent"]
    assert "testapp.signals.comment_added" in report["signals"]["not_sent"]
    # Without --signalkit-report, the terminal gets the summary line only.
    result.stdout.fnmatch_lines(["signalkit signal coverage: *"])
    result.stdout.no_fnmatch_line("Declared signals no test sent:")


def test_signalkit_fail_under_fails_a_passing_session_below_the_threshold(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile(SENDS_POST_PUBLISHED)

    result = run_in_process(pytester, fresh_plugin, "--signalkit-fail-under=100")

    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAIL: signal coverage *% is under --signalkit-fail-under=100%"]
    )


def test_signalkit_fail_under_passes_at_or_above_the_threshold(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile(SENDS_POST_PUBLISHED)

    result = run_in_process(pytester, fresh_plugin, "--signalkit-fail-under=1")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("FAIL: *")


def test_signalkit_fail_under_keeps_the_exit_status_of_failed_tests(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile("def test_fails():\n    assert False\n")

    result = run_in_process(pytester, fresh_plugin, "--signalkit-fail-under=100")

    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_without_report_options_nothing_is_observed_or_printed(
    pytester: pytest.Pytester, fresh_plugin: ModuleType
) -> None:
    pytester.makepyfile(SENDS_POST_PUBLISHED)

    result = run_in_process(pytester, fresh_plugin)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*signalkit signal coverage*")
