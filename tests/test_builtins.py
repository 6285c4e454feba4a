from __future__ import annotations

import pytest
from django.conf import settings
from django.core import signals as core_signals
from django.db.models import signals as model_signals
from django.test import override_settings

from signalkit import registry
from signalkit.builtins import BUILTINS, register_builtin_signals

AUTH_SIGNALS = [
    "django.contrib.auth.signals.user_logged_in",
    "django.contrib.auth.signals.user_logged_out",
    "django.contrib.auth.signals.user_login_failed",
]


@pytest.mark.parametrize(
    ("name", "signal", "args"),
    [
        (
            "django.db.models.signals.post_save",
            model_signals.post_save,
            ["instance", "created", "raw", "using", "update_fields"],
        ),
        (
            "django.db.models.signals.pre_delete",
            model_signals.pre_delete,
            ["instance", "using", "origin"],
        ),
        ("django.core.signals.request_finished", core_signals.request_finished, []),
        (
            "django.core.signals.setting_changed",
            core_signals.setting_changed,
            ["setting", "value", "enter"],
        ),
    ],
)
def test_builtin_signals_are_registered_with_their_arguments(
    name: str, signal: object, args: list[str]
) -> None:
    entry = registry[name]

    assert entry.signal is signal
    assert list(entry.args) == args
    assert entry.builtin
    assert entry.declared
    assert entry.doc


def test_request_started_has_environ_or_scope_as_optional() -> None:
    entry = registry["django.core.signals.request_started"]
    assert list(entry.optional_args) == ["environ", "scope"]


def test_auth_signals_are_registered_when_auth_is_installed() -> None:
    for name in AUTH_SIGNALS:
        assert registry[name].app_label == "auth"


def test_auth_signals_are_skipped_when_auth_is_not_installed() -> None:
    for name in AUTH_SIGNALS:
        registry.unregister(name)
    try:
        without_auth = [
            a for a in settings.INSTALLED_APPS if a != "django.contrib.auth"
        ]
        with override_settings(INSTALLED_APPS=without_auth):
            register_builtin_signals()
            assert not any(name in registry for name in AUTH_SIGNALS)
    finally:
        register_builtin_signals()
    assert all(name in registry for name in AUTH_SIGNALS)


def test_every_builtin_importable_here_is_registered() -> None:
    from importlib import import_module

    for builtin in BUILTINS:
        try:
            module = import_module(builtin.module)
        except ImportError:  # django.tasks before Django 6.0
            continue
        signal = getattr(module, builtin.attribute)
        assert registry.name_of(signal) == f"{builtin.module}.{builtin.attribute}"


def test_registering_builtins_twice_changes_nothing() -> None:
    before = [(e.name, e.signal) for e in registry]
    register_builtin_signals()
    assert [(e.name, e.signal) for e in registry] == before
