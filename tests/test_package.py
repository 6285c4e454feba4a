from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import signalkit

pytest_plugins = ["pytester"]


def test_public_names_are_listed_by_dir() -> None:
    assert set(signalkit.__all__) <= set(dir(signalkit))


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        signalkit.nope  # noqa: B018


def test_importing_the_pytest_plugin_imports_no_orm_and_connects_nothing() -> None:
    # pytest loads the plugin in every run, before any Django test needs it.
    script = textwrap.dedent(
        """
        import sys
        from django.core.signals import setting_changed
        before = len(setting_changed.receivers)
        import signalkit.pytest_plugin
        import signalkit
        signalkit.registry
        loaded = sorted(
            name for name in sys.modules
            if name.startswith(("django.db", "django.http"))
        )
        assert loaded == [], loaded
        assert len(setting_changed.receivers) == before
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(signalkit.__file__).parent.parent,
    )
    assert result.stdout.strip() == "ok", result.stderr


# The package's metadata and CI files, against tox.ini's environments

ROOT = Path(__file__).resolve().parent.parent


def tox_environments() -> list[str]:
    """tox.ini's env_list, with its ``{a, b}`` factors expanded."""
    tox_ini = (ROOT / "tox.ini").read_text()
    listed = tox_ini.split("env_list =\n")[1].split("\n\n")[0].split("skip_")[0]
    environments = []
    for line in filter(None, (line.strip() for line in listed.splitlines())):
        prefix, _, rest = line.partition("{")
        factors, _, suffix = rest.partition("}")
        environments += (
            [prefix + factor.strip() + suffix for factor in factors.split(",")]
            if factors
            else [line]
        )
    return environments


def test_github_workflow_runs_every_tox_environment_on_its_python() -> None:
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    matrix = dict(re.findall(r'- \{ env: ([\w-]+), python: "(3\.\d+)" \}', workflow))

    assert sorted(matrix) == sorted(tox_environments())
    for env, python in matrix.items():
        if env.startswith("py3"):
            assert env.startswith(f"py{python.replace('.', '')}-"), env


def test_classifiers_name_every_python_and_django_that_tox_runs() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    environments = tox_environments()
    pythons = {
        f"3.{match[1]}"
        for env in environments
        if (match := re.match(r"py3(\d+)-", env))
    }
    djangos = {
        f"{match[1]}.{match[2]}"
        for env in environments
        if (match := re.search(r"django(\d)(\d)$", env))
    }

    assert pythons == {"3.10", "3.11", "3.12", "3.13"}
    assert djangos == {"5.2", "6.0", "6.1"}
    for python in pythons:
        assert f'"Programming Language :: Python :: {python}",' in pyproject
    for django in djangos:
        assert f'"Framework :: Django :: {django}",' in pyproject


def test_read_the_docs_builds_as_make_docs_does() -> None:
    config = (ROOT / ".readthedocs.yaml").read_text()
    makefile = (ROOT / "Makefile").read_text()

    assert "-r requirements/docs.txt" in makefile
    assert "- requirements: requirements/docs.txt" in config
    assert "sphinx-build -W --keep-going -b html docs" in makefile
    assert "configuration: docs/conf.py" in config
    assert "fail_on_warning: true" in config


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_test_ends_with_what_was_skipped_and_why(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_runs():
            pass

        @pytest.mark.skip(reason="redis-server is not installed")
        def test_redis():
            pass

        @pytest.mark.skip(reason="redis-server is not installed")
        def test_celery():
            pass

        def test_browser():
            pytest.skip("Chromium is not installed")
        """
    )
    pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:django", "--junitxml=report.xml"
    )
    (pytester.path / "clean.xml").write_text(
        '<testsuites><testsuite><testcase name="test_ok"/></testsuite></testsuites>'
    )
    skipped = load_script("skipped")

    summary = skipped.summary(
        [pytester.path / "report.xml", pytester.path / "clean.xml", Path("gone.xml")]
    )

    assert summary == (
        f"{pytester.path / 'report.xml'}: 3 skipped\n"
        "     1 x Chromium is not installed\n"
        "     2 x redis-server is not installed\n"
        f"{pytester.path / 'clean.xml'}: nothing skipped\n"
        "gone.xml: no report (the run did not finish)"
    )
