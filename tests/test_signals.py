from __future__ import annotations

import asyncio
import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings

import signalkit
from signalkit import Signal, SignalArgumentError, receiver, registry
from signalkit.exceptions import (
    DuplicateSignalError,
    SignalDeclarationError,
    SignalNameError,
)


@pytest.fixture
def published() -> Iterator[Signal]:
    signal = Signal(
        name="tests.signals.published",
        args={"post": "The post", "user": "Who published it"},
        optional_args=["note"],
        doc="Sent after publishing.",
    )
    yield signal
    registry.unregister(signal)


def noop(sender: Any, **kwargs: Any) -> None:
    return None


def test_public_api_is_exported() -> None:
    assert signalkit.__all__ == [
        "Signal",
        "SignalArgumentError",
        "receiver",
        "record",
        "registry",
        "signal",
    ]


def test_signal_is_a_django_signal(published: Signal) -> None:
    assert isinstance(published, DjangoSignal)


def test_declaration_is_exposed(published: Signal) -> None:
    assert published.name == "tests.signals.published"
    assert dict(published.args) == {"post": "The post", "user": "Who published it"}
    assert dict(published.optional_args) == {"note": ""}
    assert published.doc == "Sent after publishing."


def test_explicit_name_registers_at_once(published: Signal) -> None:
    assert registry["tests.signals.published"].signal is published


def test_name_defaults_to_module_and_attribute() -> None:
    from testapp import signals

    assert signals.post_published.name == "testapp.signals.post_published"


def test_signal_in_a_class_body_is_named_after_the_class() -> None:
    namespace: dict[str, Any] = {"__name__": "events_module"}
    exec(
        "from signalkit import Signal\n"
        "class Events:\n"
        "    created = Signal(args=['thing'])\n",
        namespace,
    )
    try:
        assert namespace["Events"].created.name == "events_module.Events.created"
    finally:
        registry.unregister("events_module.Events.created")


def test_signal_in_a_local_class_stays_unnamed() -> None:
    class Events:
        created = Signal(args=["thing"])

    with pytest.raises(SignalNameError):
        Events.created.name  # noqa: B018


def test_unbound_signal_name_raises_with_hint() -> None:
    signal = Signal(args=["x"])

    with pytest.raises(SignalNameError, match=r"Pass name='\.\.\.'") as info:
        signal.name  # noqa: B018

    assert "not assigned to an attribute of module" in str(info.value)
    assert __file__ in str(info.value)


def test_name_read_while_the_module_imports_says_so(tmp_path: Any) -> None:
    module = tmp_path / "early_name.py"
    module.write_text(
        "from signalkit import Signal\n"
        "early = Signal(args=['x'])\n"
        "try:\n"
        "    early.name\n"
        "except Exception as error:\n"
        "    message = str(error)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        imported = importlib.import_module("early_name")
        assert "has not finished importing" in imported.message
        assert imported.early.name == "early_name.early"
    finally:
        sys.path.remove(str(tmp_path))
        registry.unregister("early_name.early")
        del sys.modules["early_name"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"args": "post"}, "args must be a list of argument names or a mapping"),
        ({"args": 3}, "args must be a list"),
        ({"args": ["not valid"]}, "'not valid', which is not a valid keyword"),
        ({"args": ["class"]}, "'class', which is not a valid keyword"),
        ({"args": [1]}, "1, which is not a valid keyword"),
        ({"args": ["sender"]}, "'sender', which Django passes to every receiver"),
        ({"optional_args": ["signal"]}, "optional_args contains 'signal'"),
        ({"args": {"post": 1}}, "the description of argument 'post' must be a string"),
        ({"args": ["post", "post"]}, "args declares 'post' twice"),
    ],
)
def test_bad_declarations_raise_naming_the_problem(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SignalDeclarationError, match="^Signal defined at .*" + ""):
        Signal(**kwargs)
    with pytest.raises(SignalDeclarationError) as info:
        Signal(**kwargs)
    assert message in str(info.value)


def test_bad_declaration_with_name_names_the_signal() -> None:
    with pytest.raises(SignalDeclarationError, match=r"^tests\.bad: args"):
        Signal(name="tests.bad", args="post")
    assert "tests.bad" not in registry


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "not a name"}, "must be a dotted name"),
        ({"name": "tests.doc", "doc": 5}, "doc must be a string"),
        (
            {"name": "tests.both", "args": ["a"], "optional_args": ["a"]},
            "'a' cannot be both required",
        ),
    ],
)
def test_bad_name_doc_or_overlap_leave_nothing_registered(
    kwargs: dict[str, Any], message: str
) -> None:
    before = len(registry)
    with pytest.raises(SignalDeclarationError, match=message):
        Signal(**kwargs)
    assert len(registry) == before


def test_send_with_declared_arguments_runs_receivers(published: Signal) -> None:
    published.connect(noop)

    assert published.send(sender=None, post=1, user=2) == [(noop, None)]
    assert published.send(sender=None, post=1, user=2, note="n") == [(noop, None)]


def test_send_with_missing_argument_raises_before_receivers_run(
    published: Signal,
) -> None:
    calls = []
    published.connect(lambda sender, **kwargs: calls.append(kwargs), weak=False)

    with pytest.raises(SignalArgumentError) as info:
        published.send(sender=None, post=1)

    assert str(info.value) == (
        "tests.signals.published.send() missing required argument 'user' "
        "(declared: post, user; optional: note)"
    )
    assert isinstance(info.value, TypeError)
    assert calls == []


def test_send_with_undeclared_argument_raises(published: Signal) -> None:
    with pytest.raises(SignalArgumentError) as info:
        published.send(sender=None, post=1, user=2, usr=3, extra=4)

    assert str(info.value) == (
        "tests.signals.published.send() got unexpected arguments 'usr', 'extra' "
        "(declared: post, user; optional: note)"
    )


def test_misspelt_argument_gets_a_suggestion(published: Signal) -> None:
    with pytest.raises(SignalArgumentError) as info:
        published.send(sender=None, post=1, usr=2)

    assert str(info.value) == (
        "tests.signals.published.send() missing required argument 'user' and "
        "got unexpected argument 'usr' (declared: post, user; optional: note). "
        "Did you mean 'user' instead of 'usr'?"
    )


def test_missing_arguments_are_listed_in_declared_order() -> None:
    signal = Signal(name="tests.signals.paid", args=["order_id", "amount"])
    try:
        with pytest.raises(
            SignalArgumentError, match="missing required arguments 'order_id', 'amount'"
        ):
            signal.send(sender=None)
    finally:
        registry.unregister(signal)


def test_an_argument_both_required_and_optional_is_refused_at_construction() -> None:
    with pytest.raises(SignalDeclarationError, match="'a' cannot be both required"):
        Signal(args=["a"], optional_args=["a"])


def test_a_signal_replaced_in_its_module_says_so(tmp_path: Any) -> None:
    # The receiver keeps the first signal alive (Django's weak connection
    # holds the signal), so it is left with no attribute to be named after.
    (tmp_path / "replaced_signals.py").write_text(
        "from signalkit import Signal, receiver\n"
        "thing = Signal(args=['x'])\n"
        "@receiver(thing)\n"
        "def on_thing(sender, **kwargs):\n"
        "    pass\n"
        "thing = Signal(\n"
        "    args=['y'],\n"
        ")\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.import_module("replaced_signals")
        with pytest.raises(SignalNameError) as info:
            registry.check_all_named(["replaced_signals"])
    finally:
        sys.path.remove(str(tmp_path))
        registry.unregister("replaced_signals.thing")
        del sys.modules["replaced_signals"]

    assert "replaced_signals.py:2 has no name yet" in str(info.value)
    assert (
        "module 'replaced_signals' assigned another signal to 'thing' afterwards, "
        "replacing this one" in str(info.value)
    )


def test_a_signal_made_by_code_without_a_file_has_the_general_hint() -> None:
    module = types.ModuleType("fileless_signals")
    sys.modules["fileless_signals"] = module
    try:
        exec("from signalkit import Signal\nkept = [Signal()]\n", module.__dict__)
        with pytest.raises(SignalNameError, match="not assigned to an attribute"):
            module.kept[0].name  # noqa: B018
    finally:
        del sys.modules["fileless_signals"]


def test_send_missing_several_arguments_lists_them(published: Signal) -> None:
    with pytest.raises(
        SignalArgumentError, match="missing required arguments 'post', 'user'"
    ):
        published.send(sender=None)


@pytest.mark.parametrize("method", ["send_robust", "asend", "asend_robust"])
def test_every_send_method_checks_arguments(published: Signal, method: str) -> None:
    def call() -> Any:
        result = getattr(published, method)(sender=None, post=1)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result

    with pytest.raises(SignalArgumentError, match=rf"\.{method}\(\) missing"):
        call()


@pytest.mark.parametrize("method", ["send_robust", "asend", "asend_robust"])
def test_every_send_method_accepts_declared_arguments(
    published: Signal, method: str
) -> None:
    published.connect(noop)
    result = getattr(published, method)(sender=None, post=1, user=2, note=3)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert result == [(noop, None)]


def test_send_robust_still_raises_for_bad_arguments(published: Signal) -> None:
    published.connect(noop)
    with pytest.raises(SignalArgumentError):
        published.send_robust(sender=None, post=1, user=2, bad=3)


def test_validation_can_be_turned_off(published: Signal) -> None:
    published.connect(noop)
    with override_settings(SIGNALKIT_VALIDATE_ARGS=False):
        assert published.send(sender=None, anything=1) == [(noop, None)]
    with pytest.raises(SignalArgumentError):
        published.send(sender=None, anything=1)


def test_signal_without_args_accepts_no_arguments() -> None:
    signal = Signal(name="tests.signals.bare")
    try:
        assert signal.send(sender=None) == []
        with pytest.raises(SignalArgumentError, match=r"\(declared: none\)"):
            signal.send(sender=None, value=1)
    finally:
        registry.unregister(signal)


def test_error_for_unnamed_signal_names_its_definition_site() -> None:
    signal = Signal(args=["x"])
    with pytest.raises(
        SignalArgumentError,
        match=r"^<signal defined at .*test_signals\.py:\d+>\.send\(\)",
    ):
        signal.send(sender=None)


def test_subclass_init_reports_the_user_definition_site() -> None:
    class Custom(Signal):
        def __init__(self) -> None:
            super().__init__(args=["x"])

    signal = Custom()
    assert signal._defined_at.startswith(f"{__file__}:")


def test_receiver_decorator_connects_like_django(published: Signal) -> None:
    class Model:
        pass

    @receiver(published, sender=Model, dispatch_uid="uid")
    def handler(sender: Any, **kwargs: Any) -> str:
        return "handled"

    assert published.send(sender=Model, post=1, user=2) == [(handler, "handled")]
    assert published.send(sender=object, post=1, user=2) == []
    assert published.disconnect(sender=Model, dispatch_uid="uid")


def test_receiver_decorator_takes_a_list_of_signals(published: Signal) -> None:
    other = DjangoSignal()

    @receiver([published, other], weak=False)
    def handler(sender: Any, **kwargs: Any) -> str:
        return "handled"

    assert published.send(sender=None, post=1, user=2) == [(handler, "handled")]
    assert other.send(sender=None) == [(handler, "handled")]


def test_receiver_task_options_need_background(published: Signal) -> None:
    with pytest.raises(
        TypeError, match=r"task options 'queue_name' without background=True"
    ):
        receiver(published, queue_name="emails")


def test_reimporting_a_module_is_not_a_conflict(tmp_path: Any) -> None:
    (tmp_path / "reloaded_signals.py").write_text(
        "from signalkit import Signal\n"
        "named = Signal(name='reloaded.named', args=['x'])\n"
        "auto = Signal(args=['x'])\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("reloaded_signals")
        first_named, first_auto = module.named, module.auto
        assert registry["reloaded_signals.auto"].signal is first_auto
        module = importlib.reload(module)
        assert registry["reloaded.named"].signal is module.named is not first_named
        assert registry["reloaded_signals.auto"].signal is module.auto
        assert first_named not in registry
        assert registry.entry_for(first_named) is None
        # Still referenced elsewhere, the old objects keep their names.
        assert first_named.name == "reloaded.named"
        assert registry.name_of(first_auto) == "reloaded_signals.auto"
    finally:
        sys.path.remove(str(tmp_path))
        registry.unregister("reloaded.named")
        registry.unregister("reloaded_signals.auto")
        del sys.modules["reloaded_signals"]


def test_reimporting_a_module_before_its_names_are_read_is_not_a_conflict(
    tmp_path: Any,
) -> None:
    (tmp_path / "early_reload.py").write_text(
        "from signalkit import Signal\nauto = Signal(args=['x'])\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("early_reload")
        first = module.auto
        module = importlib.reload(module)
        registry.check_all_named(["early_reload"])
        assert registry["early_reload.auto"].signal is module.auto
        assert first.name == "early_reload.auto"
    finally:
        sys.path.remove(str(tmp_path))
        registry.unregister("early_reload.auto")
        del sys.modules["early_reload"]


def test_two_signals_under_one_name_raise_naming_both_sites(published: Signal) -> None:
    with pytest.raises(DuplicateSignalError) as info:
        Signal(name="tests.signals.published")

    message = str(info.value)
    assert message.count("test_signals.py:") == 2
    assert "Give one of them another name" in message
    assert registry["tests.signals.published"].signal is published


def test_signal_created_in_a_module_without_name_is_registered_lazily() -> None:
    module = types.ModuleType("lazy_module")
    sys.modules["lazy_module"] = module
    try:
        exec(
            "from signalkit import Signal\nlate = Signal(args=['x'])\n",
            module.__dict__,
        )
        assert "lazy_module.late" in registry
    finally:
        registry.unregister("lazy_module.late")
        del sys.modules["lazy_module"]


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_exact_required_arguments_take_the_fast_path(
    published: Signal, method: str
) -> None:
    published.connect(noop)
    result = getattr(published, method)(sender=None, post=1, user=2)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert result == [(noop, None)]


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_every_send_method_without_receivers_returns_nothing_at_once(
    published: Signal, method: str
) -> None:
    result = getattr(published, method)(sender=None, post=1, user=2)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert result == []


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_every_send_method_without_receivers_is_recorded(
    published: Signal, method: str
) -> None:
    from signalkit import record

    with record() as recorder:
        result = getattr(published, method)(sender=None, post=1, user=2)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    assert result == []
    assert [send.method for send in recorder.sends] == [method]


class _FindsItsOwn(Signal):
    """Looks its receivers up itself, counting how often it is asked."""

    asked = 0

    def _live_receivers(self, sender: Any) -> Any:
        self.asked += 1
        return super()._live_receivers(sender)


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_a_subclass_finding_its_own_receivers_is_asked_once_per_send(
    method: str,
) -> None:
    signal = _FindsItsOwn(name="tests.signals.finds_its_own", args=["post"])
    try:
        signal.connect(noop)
        assert getattr(signal, method)(sender=None, post=1) == [(noop, None)]
        assert signal.asked == 1
    finally:
        registry.unregister(signal)


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_a_sync_send_runs_async_receivers_as_django_does(
    published: Signal, method: str
) -> None:
    async def answer(sender: Any, **kwargs: Any) -> int:
        return 42

    published.connect(noop)
    published.connect(answer)
    responses = getattr(published, method)(sender=None, post=1, user=2)

    assert responses == [(noop, None), (answer, 42)]
