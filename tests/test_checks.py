from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import Error, Warning
from django.test import override_settings

from signalkit import Signal, registry
from signalkit.checks import check_receiver_signatures, check_settings


@pytest.fixture
def ordered() -> Iterator[Signal]:
    signal = Signal(
        name="tests.checks.ordered",
        args={"order": "The order", "user": "Who ordered"},
        optional_args=["coupon"],
    )
    yield signal
    registry.unregister(signal)


def test_default_settings_pass() -> None:
    assert check_settings() == []


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("SIGNALKIT_VALIDATE_ARGS", 1, "signalkit.E001"),
        ("SIGNALKIT_AUTODISCOVER_MODULES", "signals", "signalkit.E002"),
        ("SIGNALKIT_RECORD_MAX_SENDS", -1, "signalkit.E003"),
        ("SIGNALKIT_SUMMARY_MAX_LENGTH", None, "signalkit.E004"),
        ("SIGNALKIT_SENSITIVE_ARGS", 5, "signalkit.E005"),
    ],
)
def test_bad_setting_is_an_error_with_its_id(
    setting: str, value: object, check_id: str
) -> None:
    with override_settings(**{setting: value}):
        errors = check_settings()

    assert len(errors) == 1
    assert isinstance(errors[0], Error)
    assert errors[0].id == check_id
    assert errors[0].msg.startswith(setting)


def test_project_receivers_pass() -> None:
    assert check_receiver_signatures() == []


def test_receiver_with_a_misspelled_argument_warns(ordered: Signal) -> None:
    def notify(sender: Any, usr: Any, **kwargs: Any) -> None:
        pass

    ordered.connect(notify)
    warnings = check_receiver_signatures()

    assert len(warnings) == 1
    warning = warnings[0]
    assert isinstance(warning, Warning)
    assert warning.id == "signalkit.W001"
    assert warning.obj is notify
    assert warning.msg == (
        f"Receiver {__name__}.test_receiver_with_a_misspelled_argument_warns"
        ".<locals>.notify connected to tests.checks.ordered cannot be called with "
        "the signal's arguments: missing a required argument: 'usr'."
    )
    assert warning.hint is not None
    assert "order, user, coupon" in warning.hint


def test_receiver_requiring_an_optional_argument_is_fine_when_it_has_a_default(
    ordered: Signal,
) -> None:
    def with_default(
        sender: Any, order: Any, coupon: Any = None, **kwargs: Any
    ) -> None:
        pass

    def requires_optional(sender: Any, coupon: Any, **kwargs: Any) -> None:
        pass

    ordered.connect(with_default)
    ordered.connect(requires_optional)
    warnings = check_receiver_signatures()

    assert [w.obj for w in warnings] == [requires_optional]


def test_receiver_without_kwargs_warns(ordered: Signal) -> None:
    def strict(sender: Any, order: Any, user: Any, coupon: Any = None) -> None:
        pass

    ordered.connect(strict)  # DEBUG is off in tests, so Django does not refuse it.
    [warning] = check_receiver_signatures()

    assert "it does not accept **kwargs" in warning.msg


def test_undeclared_and_dead_and_unintrospectable_receivers_are_skipped(
    ordered: Signal,
) -> None:
    from testapp.signals import legacy_event

    def no_kwargs(sender: Any) -> None:
        pass

    def dies(sender: Any, nope: Any, **kwargs: Any) -> None:
        pass

    class Opaque:
        __signature__ = 5  # inspect.signature() cannot read it.

        def __call__(self, sender: Any) -> None:
            pass

    legacy_event.connect(no_kwargs)
    ordered.connect(dies)
    ordered.connect(Opaque(), weak=False)
    del dies
    try:
        assert check_receiver_signatures() == []
    finally:
        legacy_event.disconnect(no_kwargs)
