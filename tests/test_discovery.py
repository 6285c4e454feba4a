from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings

from signalkit import registry
from signalkit.checks import check_settings
from signalkit.discovery import autodiscover, why_nothing_was_discovered
from signalkit.exceptions import SignalNameError

MakeApp = Callable[..., str]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[MakeApp]:
    """Write an app package under tmp_path; forget it and its signals after."""
    names: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(name: str, **modules: str) -> str:
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("")
        for module, source in modules.items():
            (package / f"{module}.py").write_text(source)
        names.append(name)
        return name

    yield make
    sys.path.remove(str(tmp_path))
    for entry in list(registry):
        if entry.module.split(".")[0] in names:
            registry.unregister(entry.name)
    for module in list(sys.modules):
        if module.split(".")[0] in names:
            del sys.modules[module]


def _installed(*names: str) -> override_settings:
    return override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, *names])


SIGNALS = """
from django.dispatch import Signal as DjangoSignal
from signalkit import Signal, receiver

shipped = Signal(args={"order": "The order"}, doc="Sent when an order ships.")
legacy = DjangoSignal()
calls = []

@receiver(shipped)
def on_shipped(sender, order, **kwargs):
    calls.append(order)
"""


def test_apps_signals_module_is_imported_when_django_starts(make_app: MakeApp) -> None:
    make_app("shop", signals=SIGNALS)

    with _installed("shop"):
        shipped = registry["shop.signals.shipped"]
        shipped.signal.send(sender=None, order=7)

        assert sys.modules["shop.signals"].calls == [7]
        assert shipped.app_label == "shop"
        assert [r.name for r in shipped.receivers()] == ["shop.signals.on_shipped"]


def test_plain_django_signals_are_registered_as_undeclared(make_app: MakeApp) -> None:
    make_app("shop", signals=SIGNALS)

    with _installed("shop"):
        legacy = registry["shop.signals.legacy"]

        assert legacy.declared is False
        assert dict(legacy.args) == {}
        assert legacy.signal is sys.modules["shop.signals"].legacy


def test_imported_signals_keep_their_own_names(make_app: MakeApp) -> None:
    make_app(
        "reexporter",
        signals="from django.db.models.signals import post_save\n"
        "from testapp.signals import post_published\n",
    )

    with _installed("reexporter"):
        assert "reexporter.signals.post_save" not in registry
        assert "reexporter.signals.post_published" not in registry


def test_app_without_signals_module_is_skipped(make_app: MakeApp) -> None:
    make_app("quiet", models="")

    with _installed("quiet"):
        assert apps.is_installed("quiet")
        assert "quiet.signals" not in sys.modules


def test_autodiscover_modules_setting_names_other_modules(make_app: MakeApp) -> None:
    make_app("shop", receivers=SIGNALS)

    with (
        override_settings(SIGNALKIT_AUTODISCOVER_MODULES=["receivers"]),
        _installed("shop"),
    ):
        assert "shop.receivers.shipped" in registry


def test_autodiscover_returns_the_modules_it_imported() -> None:
    imported = autodiscover()

    assert "testapp.signals" in imported
    assert "django.contrib.auth.signals" in imported
    assert all(name.endswith(".signals") for name in imported)


def test_unbound_signals_elsewhere_do_not_stop_discovery() -> None:
    from signalkit import Signal

    unbound = Signal(args=["x"])  # Defined in this test, not in an app.
    with pytest.raises(SignalNameError):
        unbound.name  # noqa: B018
    assert "testapp.signals" in autodiscover()


def test_broken_signals_module_raises_its_own_error(make_app: MakeApp) -> None:
    make_app(
        "broken",
        signals="import broken.toggle\nif broken.toggle.BREAK:\n    import no_such_module\n",
        toggle="BREAK = False\n",
    )
    with _installed("broken"):
        sys.modules["broken.toggle"].BREAK = True  # type: ignore[attr-defined]
        del sys.modules["broken.signals"]

        with pytest.raises(
            ModuleNotFoundError, match="No module named 'no_such_module'"
        ) as info:
            autodiscover()

    assert info.value.name == "no_such_module"


def test_error_inside_signals_module_propagates_unchanged(make_app: MakeApp) -> None:
    make_app(
        "broken",
        signals="import broken.toggle\nif broken.toggle.BREAK:\n    1 / 0\n",
        toggle="BREAK = False\n",
    )
    with _installed("broken"):
        sys.modules["broken.toggle"].BREAK = True  # type: ignore[attr-defined]
        del sys.modules["broken.signals"]

        with pytest.raises(ZeroDivisionError):
            autodiscover()


def test_unbound_signal_in_a_discovered_module_is_an_error(make_app: MakeApp) -> None:
    make_app(
        "unbound",
        signals="import unbound.toggle\nfrom signalkit import Signal\n"
        "if unbound.toggle.MAKE:\n    SIGNALS = [Signal(args=['x'])]\n",
        toggle="MAKE = False\n",
    )
    with _installed("unbound"):
        sys.modules["unbound.toggle"].MAKE = True  # type: ignore[attr-defined]
        del sys.modules["unbound.signals"]

        with pytest.raises(SignalNameError) as info:
            autodiscover()

    assert "unbound/signals.py:4" in str(info.value)
    assert "not assigned to an attribute of module 'unbound.signals'" in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "signals",
            "must be a list of module names, such as ['signals'], not 'signals' (str)",
        ),
        (
            ["signals", "not a module"],
            "contains 'not a module', which is not a module name",
        ),
        ([3], "contains 3, which is not a module name"),
    ],
)
def test_bad_autodiscover_setting_skips_discovery_and_the_check_names_it(
    value: object, message: str
) -> None:
    with override_settings(SIGNALKIT_AUTODISCOVER_MODULES=value):
        imported = autodiscover()
        errors = check_settings()
        reason = why_nothing_was_discovered()

    assert imported == []
    assert [error.id for error in errors] == ["signalkit.E002"]
    assert errors[0].msg.startswith("SIGNALKIT_AUTODISCOVER_MODULES ")
    assert message in errors[0].msg
    assert reason is not None
    assert reason.startswith("Autodiscovery is off because SIGNALKIT_AUTODISCOVER_")


def test_why_nothing_was_discovered_names_the_modules_looked_for() -> None:
    with override_settings(SIGNALKIT_AUTODISCOVER_MODULES=["no_such_module"]):
        reason = why_nothing_was_discovered()

    assert reason is not None
    assert "has a module named 'no_such_module'" in reason
    assert why_nothing_was_discovered() is None


def test_signal_made_by_a_factory_is_named_where_it_lands(make_app: MakeApp) -> None:
    # Not "factory": factory_boy's package has that name (tests/test_testing.py).
    make_app(
        "signal_factory",
        helpers="from signalkit import Signal\n\n"
        "def make_signal():\n    return Signal(args=['x'])\n",
        signals="from signal_factory.helpers import make_signal\nmade = make_signal()\n",
    )

    with _installed("signal_factory"):
        entry = registry["signal_factory.signals.made"]
        assert entry.signal is sys.modules["signal_factory.signals"].made
        assert list(entry.args) == ["x"]
