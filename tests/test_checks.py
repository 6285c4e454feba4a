from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error, Warning
from django.test import override_settings

from signalkit import Signal, registry
from signalkit.checks import (
    SIGNALKIT_PANEL,
    TOOLBAR_SIGNALS_PANEL,
    check_background_receivers,
    check_duplicate_receivers,
    check_receiver_signatures,
    check_settings,
    check_toolbar_panels,
    check_unknown_settings,
)


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
        ("SIGNALKIT_PANEL_FOLD_EMPTY", "no", "signalkit.E006"),
        ("SIGNALKIT_CHECK_TYPES", "yes", "signalkit.E007"),
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


def test_a_misspelt_setting_warns_with_the_name_it_resembles() -> None:
    with override_settings(SIGNALKIT_VALIDATE_ARG=False):
        (warning,) = check_unknown_settings()

    assert warning == Warning(
        "SIGNALKIT_VALIDATE_ARG is not a signalkit setting; it is ignored.",
        hint="Did you mean SIGNALKIT_VALIDATE_ARGS?",
        id="signalkit.W004",
    )


def test_an_unknown_setting_unlike_any_warns_without_a_guess() -> None:
    with override_settings(SIGNALKIT_FROBNICATE=True):
        (warning,) = check_unknown_settings()

    assert warning.msg == (
        "SIGNALKIT_FROBNICATE is not a signalkit setting; it is ignored."
    )
    assert str(warning.hint).startswith(
        "signalkit's settings are SIGNALKIT_AUTODISCOVER_MODULES, "
    )
    assert "SIGNALKIT_VALIDATE_ARGS" in str(warning.hint)


def test_known_settings_do_not_warn() -> None:
    with override_settings(SIGNALKIT_VALIDATE_ARGS=False):
        assert check_unknown_settings() == []


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


def test_receiver_requiring_an_optional_argument_is_told_to_give_it_a_default(
    ordered: Signal,
) -> None:
    def requires_optional(sender: Any, coupon: Any, **kwargs: Any) -> None:
        pass

    ordered.connect(requires_optional)
    [warning] = check_receiver_signatures()

    assert warning.msg.endswith(
        "cannot be called with the signal's arguments: it requires 'coupon', "
        "which the signal declares as optional: a send may leave it out."
    )
    assert warning.hint == (
        "Give 'coupon' a default, such as coupon=None; tests.checks.ordered "
        "always sends sender, signal and order, user."
    )


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


# signalkit.W002: one receiver connected twice


def make_receiver() -> Callable[..., None]:
    def twice(sender: Any, **kwargs: Any) -> None:
        pass

    return twice


def test_receiver_defined_and_connected_twice_warns(ordered: Signal) -> None:
    first, second = make_receiver(), make_receiver()
    ordered.connect(first)
    ordered.connect(second)

    [warning] = check_duplicate_receivers()

    assert isinstance(warning, Warning)
    assert warning.id == "signalkit.W002"
    assert warning.obj is second
    assert warning.msg == (
        f"Receiver {__name__}.make_receiver.<locals>.twice is connected twice to "
        "tests.checks.ordered; it will run twice."
    )


def test_module_imported_under_two_names_warns_with_both_names(
    ordered: Signal, tmp_path: Path
) -> None:
    source = tmp_path / "handlers.py"
    source.write_text("def on_order(sender, **kwargs):\n    pass\n")
    modules = []
    for name in ("shop_handlers", "project.shop_handlers"):
        spec = importlib.util.spec_from_file_location(name, source)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
        ordered.connect(module.on_order)

    [warning] = check_duplicate_receivers()

    assert warning.msg == (
        "Receiver shop_handlers.on_order is connected twice to tests.checks.ordered "
        "(also as project.shop_handlers.on_order); it will run twice."
    )


def compiled(source: str, *, line: int) -> Any:
    """The function *source* defines, as if written at *line* of shop/signals.py."""
    namespace: dict[str, Any] = {"__name__": "shop.signals"}
    exec(compile("\n" * (line - 1) + source, "shop/signals.py", "exec"), namespace)
    return namespace["handler"]


def test_two_functions_of_one_module_and_name_warn(ordered: Signal) -> None:
    first = compiled("def handler(sender, **kwargs): pass", line=3)
    again = compiled("def handler(sender, **kwargs): pass", line=30)
    ordered.connect(first)
    ordered.connect(again)

    [warning] = check_duplicate_receivers()

    assert warning.msg == (
        "Receiver shop.signals.handler is connected twice to tests.checks.ordered; "
        "it will run twice."
    )


def test_two_lambdas_of_one_module_are_not_duplicates(ordered: Signal) -> None:
    first = compiled("handler = lambda sender, **kwargs: None", line=3)
    other = compiled("handler = lambda sender, **kwargs: None", line=4)
    ordered.connect(first)
    ordered.connect(other)

    assert check_duplicate_receivers() == []


class Listener:
    def on_order(self, sender: Any, **kwargs: Any) -> None:
        pass


def test_one_method_of_two_instances_is_not_a_duplicate(ordered: Signal) -> None:
    one, two = Listener(), Listener()
    ordered.connect(one.on_order)
    ordered.connect(two.on_order)

    assert check_duplicate_receivers() == []


def test_copies_connected_for_other_senders_or_with_uids_are_not_duplicates(
    ordered: Signal,
) -> None:
    receivers = [make_receiver() for _ in range(4)]
    ordered.connect(receivers[0], sender=Listener)
    ordered.connect(receivers[1], sender=Signal)
    ordered.connect(receivers[2], dispatch_uid="first")
    ordered.connect(receivers[3], dispatch_uid="second")

    assert check_duplicate_receivers() == []


def on_order(sender: Any, **kwargs: Any) -> None:
    pass


def test_one_function_connected_plainly_and_with_a_uid_warns_naming_both(
    ordered: Signal,
) -> None:
    ordered.connect(on_order)
    ordered.connect(on_order, dispatch_uid="confirm")

    [warning] = check_duplicate_receivers()

    assert warning == Warning(
        f"Receiver {__name__}.on_order is connected twice to tests.checks.ordered "
        "(once plainly, once with dispatch_uid='confirm'); it will run twice.",
        hint="Django keeps one connection per key (the receiver itself, or its "
        "dispatch_uid when one is given), so each key adds a connection. Connect "
        "it once: always with the same dispatch_uid, or always without.",
        obj=on_order,
        id="signalkit.W002",
    )


def test_one_function_connected_under_three_uids_warns_once(
    ordered: Signal,
) -> None:
    for uid in ("first", "second", "third"):
        ordered.connect(on_order, dispatch_uid=uid)

    [warning] = check_duplicate_receivers()

    assert warning.msg == (
        f"Receiver {__name__}.on_order is connected 3 times to "
        "tests.checks.ordered (once with dispatch_uid='first', once with "
        "dispatch_uid='second', once with dispatch_uid='third'); it will run 3 "
        "times."
    )


def test_one_method_of_one_instance_under_two_uids_warns(ordered: Signal) -> None:
    listener = Listener()
    ordered.connect(listener.on_order, dispatch_uid="first")
    ordered.connect(listener.on_order, dispatch_uid="second")

    [warning] = check_duplicate_receivers()

    assert warning.msg.startswith(
        f"Receiver {__name__}.Listener.on_order is connected twice to "
    )


def test_one_function_under_two_uids_for_two_senders_is_not_a_duplicate(
    ordered: Signal,
) -> None:
    ordered.connect(on_order, sender=Listener, dispatch_uid="listener")
    ordered.connect(on_order, sender=Signal, dispatch_uid="signal")

    assert check_duplicate_receivers() == []


def test_receivers_without_a_code_object_are_not_compared(ordered: Signal) -> None:
    ordered.connect(print)
    ordered.connect(functools.partial(make_receiver()), weak=False)
    ordered.connect(functools.partial(make_receiver()), weak=False)

    assert check_duplicate_receivers() == []


def test_project_receivers_are_not_duplicated() -> None:
    assert check_duplicate_receivers() == []


# signalkit.E012: background receivers that cannot be enqueued


def test_missing_tasks_framework_hint_says_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tasks_receivers  # noqa: F401  (connects background receivers)

    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    errors = check_background_receivers()

    assert errors
    assert {error.id for error in errors} == {"signalkit.E012"}
    assert all(".." not in error.msg for error in errors)
    assert errors[0].hint is not None
    assert 'pip install "django-signalkit[tasks]"' in errors[0].hint
    assert "Configure the backend" not in errors[0].hint


def test_unusable_backend_hint_says_to_configure_tasks() -> None:
    import tasks_receivers  # noqa: F401  (connects background receivers)

    with override_settings(SIGNALKIT_TASKS_BACKEND="nowhere"):
        errors = check_background_receivers()

    assert errors
    assert errors[0].hint is not None
    assert errors[0].hint.startswith("Configure the backend in TASKS")


# signalkit.W003: both signals panels


def test_both_signals_panels_in_the_toolbar_warn() -> None:
    with override_settings(
        DEBUG_TOOLBAR_PANELS=[TOOLBAR_SIGNALS_PANEL, SIGNALKIT_PANEL]
    ):
        [warning] = check_toolbar_panels()

    assert isinstance(warning, Warning)
    assert warning.id == "signalkit.W003"
    assert TOOLBAR_SIGNALS_PANEL in warning.msg


@pytest.mark.parametrize(
    "panels",
    [
        [SIGNALKIT_PANEL],
        [TOOLBAR_SIGNALS_PANEL],
        None,
    ],
)
def test_one_signals_panel_or_the_toolbar_defaults_pass(panels: object) -> None:
    with override_settings(DEBUG_TOOLBAR_PANELS=panels):
        assert check_toolbar_panels() == []


def test_unresolvable_annotations_are_listed_while_types_are_checked() -> None:
    import typed_signals
    from signalkit.checks import check_unresolvable_annotations

    with override_settings(SIGNALKIT_CHECK_TYPES=True):
        warnings = check_unresolvable_annotations()

    assert [(each.id, each.obj) for each in warnings] == [
        ("signalkit.W010", typed_signals.order_paid)
    ]
    assert warnings[0].msg == (
        "typed_signals.orders.paid: the annotation 'Decimal' of argument 'amount' "
        "cannot be resolved at run time (NameError: name 'Decimal' is not "
        "defined); SIGNALKIT_CHECK_TYPES does not check that argument."
    )


def test_unresolvable_annotations_are_not_reported_while_types_are_not_checked() -> (
    None
):
    import typed_signals
    from signalkit.checks import check_unresolvable_annotations

    assert typed_signals.order_paid.unresolved_annotations()
    assert check_unresolvable_annotations() == []
