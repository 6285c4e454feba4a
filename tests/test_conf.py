from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from signalkit.conf import DEFAULTS, conf, problem, unknown_names
from testapp.signals import post_published


def test_defaults() -> None:
    assert conf.VALIDATE_ARGS is True
    assert conf.AUTODISCOVER_MODULES == ("signals",)
    assert conf.RECORD_MAX_SENDS == 1000
    assert conf.SUMMARY_MAX_LENGTH == 200
    assert "password"[:4] in conf.SENSITIVE_ARGS


def test_settings_are_read_at_access_time() -> None:
    with override_settings(
        SIGNALKIT_VALIDATE_ARGS=False,
        SIGNALKIT_AUTODISCOVER_MODULES=("signals", "receivers"),
        SIGNALKIT_RECORD_MAX_SENDS=5,
        SIGNALKIT_SUMMARY_MAX_LENGTH=20,
        SIGNALKIT_SENSITIVE_ARGS=["pin"],
    ):
        assert conf.VALIDATE_ARGS is False
        assert conf.AUTODISCOVER_MODULES == ("signals", "receivers")
        assert conf.RECORD_MAX_SENDS == 5
        assert conf.SUMMARY_MAX_LENGTH == 20
        assert conf.SENSITIVE_ARGS == ("pin",)
    assert conf.VALIDATE_ARGS is True


def test_other_settings_do_not_clear_the_cache() -> None:
    assert conf.VALIDATE_ARGS is True
    with override_settings(DEBUG=True):
        assert conf._cache["VALIDATE_ARGS"] is True


def test_values_are_cached_until_a_signalkit_setting_changes() -> None:
    assert conf.RECORD_MAX_SENDS == 1000
    with override_settings(SIGNALKIT_RECORD_MAX_SENDS=7):
        assert conf._cache == {}
        assert conf.RECORD_MAX_SENDS == 7
        assert conf._cache == {"RECORD_MAX_SENDS": 7}


@pytest.mark.parametrize(
    ("setting", "attribute", "value", "message"),
    [
        (
            "SIGNALKIT_VALIDATE_ARGS",
            "VALIDATE_ARGS",
            "yes",
            "must be True or False, not 'yes' (str)",
        ),
        (
            "SIGNALKIT_RECORD_MAX_SENDS",
            "RECORD_MAX_SENDS",
            0,
            "must be a positive integer, not 0",
        ),
        (
            "SIGNALKIT_RECORD_MAX_SENDS",
            "RECORD_MAX_SENDS",
            True,
            "must be a positive integer, not True",
        ),
        (
            "SIGNALKIT_SUMMARY_MAX_LENGTH",
            "SUMMARY_MAX_LENGTH",
            "9",
            "must be a positive integer",
        ),
        (
            "SIGNALKIT_SENSITIVE_ARGS",
            "SENSITIVE_ARGS",
            "token",
            "must be a list of strings, not 'token' (str)",
        ),
        (
            "SIGNALKIT_SENSITIVE_ARGS",
            "SENSITIVE_ARGS",
            ["token", ""],
            "contains ''; every item must be a non-empty string",
        ),
    ],
)
def test_bad_values_raise_at_first_use_and_are_described_by_problem(
    setting: str, attribute: str, value: object, message: str
) -> None:
    with override_settings(**{setting: value}):
        found = problem(attribute)
        with pytest.raises(ImproperlyConfigured) as raised:
            getattr(conf, attribute)

    assert found is not None
    assert found.startswith(f"{setting} {message}")
    assert str(raised.value) == found
    assert attribute not in conf._cache


@pytest.mark.parametrize("value", ["no", 0, None])
def test_a_send_with_validate_args_set_wrong_raises_naming_the_setting(
    value: object,
) -> None:
    with (
        override_settings(SIGNALKIT_VALIDATE_ARGS=value),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        # A send that needs the argument check (here: 'user' is missing).
        post_published.send(sender=None, post="p")

    assert str(raised.value) == (
        f"SIGNALKIT_VALIDATE_ARGS must be True or False, not {value!r} "
        f"({type(value).__name__})."
    )


def test_a_good_value_is_checked_once_then_cached() -> None:
    with override_settings(SIGNALKIT_VALIDATE_ARGS=False):
        assert conf.VALIDATE_ARGS is False
        assert conf._cache == {"VALIDATE_ARGS": False}


def test_unknown_signalkit_names_come_with_the_closest_known_name() -> None:
    with override_settings(
        SIGNALKIT_VALIDATE_ARG=True,
        SIGNALKIT_FROBNICATE=1,
        SIGNALKIT_VALIDATE_ARGS=True,
        OTHER_SETTING=1,
    ):
        found = unknown_names()

    assert found == [
        ("SIGNALKIT_FROBNICATE", None),
        ("SIGNALKIT_VALIDATE_ARG", "SIGNALKIT_VALIDATE_ARGS"),
    ]


def test_no_unknown_names_by_default() -> None:
    assert unknown_names() == []


@pytest.mark.parametrize("attribute", sorted(DEFAULTS))
def test_defaults_have_no_problem(attribute: str) -> None:
    assert problem(attribute) is None
