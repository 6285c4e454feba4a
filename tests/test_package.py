from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import signalkit


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
