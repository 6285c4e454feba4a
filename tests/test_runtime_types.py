"""SIGNALKIT_CHECK_TYPES: a typed signal's arguments checked at send."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, NewType, Optional, Protocol, TypeVar, Union

import pytest
from django.db import transaction
from django.test import override_settings

import typed_signals
import typed_signals_eager
from signalkit import SignalArgumentError, signal
from signalkit.exceptions import SignalArgumentTypeError
from signalkit.runtime_types import ArgumentTypes, predicate_for
from testapp.models import Post

# Typed as Any: these tests make the sends that type checkers refuse.
published: Any = typed_signals.post_published
paid: Any = typed_signals.order_paid


@pytest.fixture
def check_types() -> Iterator[None]:
    with override_settings(SIGNALKIT_CHECK_TYPES=True):
        yield


@pytest.fixture
def calls() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def remember(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    published.connect(remember)
    yield received
    published.disconnect(remember)


def test_off_by_default_a_wrong_type_is_sent(calls: list[dict[str, Any]]) -> None:
    published.send(sender=Post, post="not a post", user=typed_signals.User())

    assert calls[0]["post"] == "not a post"


@pytest.mark.usefixtures("check_types")
def test_wrong_type_names_signal_argument_expected_and_got(
    calls: list[dict[str, Any]],
) -> None:
    with pytest.raises(
        SignalArgumentTypeError,
        match=re.escape(
            "typed_signals.post_published.send(): argument 'post' must be "
            "Post, got a typed_signals.User."
        ),
    ):
        published.send(
            sender=Post, post=typed_signals.User(), user=typed_signals.User()
        )

    assert calls == []  # before any receiver runs


def test_type_error_is_an_argument_error() -> None:
    assert issubclass(SignalArgumentTypeError, SignalArgumentError)


@pytest.mark.usefixtures("check_types")
def test_right_types_are_sent(calls: list[dict[str, Any]]) -> None:
    post, user = Post(), typed_signals.User()

    published.send(sender=Post, post=post, user=user, note=None)
    published.send(sender=Post, post=post, user=user, note="text")

    assert [call["note"] for call in calls] == [None, "text"]


@pytest.mark.usefixtures("check_types")
@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_every_sync_send_is_checked(method: str) -> None:
    with pytest.raises(
        SignalArgumentTypeError, match=rf"\.{method}\(\): argument 'note'"
    ):
        getattr(published, method)(
            sender=Post, post=Post(), user=typed_signals.User(), note=3
        )


@pytest.mark.usefixtures("check_types")
@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_every_async_send_is_checked(method: str) -> None:
    send = getattr(published, method)(
        sender=Post, post=Post(), user=typed_signals.User(), note=3
    )
    with pytest.raises(
        SignalArgumentTypeError, match=rf"\.{method}\(\): argument 'note'"
    ):
        asyncio.run(send)


@pytest.mark.usefixtures("check_types")
@pytest.mark.django_db
def test_send_on_commit_is_checked_at_once() -> None:
    with (
        transaction.atomic(),
        pytest.raises(
            SignalArgumentTypeError, match=r"send_on_commit\(\): argument 'post'"
        ),
    ):
        published.send_on_commit(sender=Post, post=1, user=typed_signals.User())


def test_turning_the_check_on_and_off_again(calls: list[dict[str, Any]]) -> None:
    user = typed_signals.User()
    published.send(sender=Post, post=1, user=user)  # settles: off
    with override_settings(SIGNALKIT_CHECK_TYPES=True):
        with pytest.raises(SignalArgumentTypeError):
            published.send(sender=Post, post=1, user=user)
        with pytest.raises(SignalArgumentTypeError):
            published.send(sender=Post, post=1, user=user)
    published.send(sender=Post, post=2, user=user)

    assert [call["post"] for call in calls] == [1, 2]


@override_settings(SIGNALKIT_CHECK_TYPES=True, SIGNALKIT_VALIDATE_ARGS=False)
def test_types_are_checked_with_argument_validation_off() -> None:
    with pytest.raises(SignalArgumentTypeError):
        published.send(sender=Post, post=1, user=typed_signals.User())
    published.send(sender=Post, post=Post())  # a missing argument is let through


@pytest.mark.usefixtures("check_types")
def test_forward_references_resolve_once_the_module_is_imported() -> None:
    with pytest.raises(
        SignalArgumentTypeError, match="argument 'user' must be User, got a testapp"
    ):
        published.send(sender=Post, post=Post(), user=Post())


@pytest.mark.usefixtures("check_types")
def test_literal_generic_and_unresolvable_annotations() -> None:
    order = typed_signals.Order()
    good = {"order": order, "amount": object(), "items": [1], "extra": object()}
    paid.send(sender=typed_signals.Order, status="paid", **good)

    with pytest.raises(
        SignalArgumentTypeError,
        match=re.escape(
            "argument 'status' must be Literal['paid', 'refunded'], got 'lost'."
        ),
    ):
        paid.send(sender=typed_signals.Order, status="lost", **good)
    with pytest.raises(SignalArgumentTypeError, match="'items' must be list"):
        paid.send(sender=typed_signals.Order, status="paid", **{**good, "items": ()})


def test_unresolvable_annotations_are_listed() -> None:
    assert paid._types is not None
    assert paid._types.unresolved() == {
        "amount": "NameError: name 'Decimal' is not defined"
    }
    assert published._types is not None
    assert published._types.unresolved() == {}


@pytest.mark.usefixtures("check_types")
def test_evaluated_annotations_are_checked() -> None:
    moved: Any = typed_signals_eager.item_moved
    good: dict[str, Any] = {"item": 1, "to": None, "thing": object(), "flags": {}}
    moved.send(sender=int, by=typed_signals_eager.UserId(5), **good)

    with pytest.raises(SignalArgumentTypeError, match="'item' must be int, got '1'"):
        moved.send(sender=int, **{**good, "item": "1"})
    with pytest.raises(
        SignalArgumentTypeError, match="'flags' must be dict\\[str, bool\\], got a list"
    ):
        moved.send(sender=int, **{**good, "flags": []})


class Shape:
    pass


class Circle(Shape):
    pass


class HasArea(Protocol):
    def area(self) -> float: ...


T = TypeVar("T")


@pytest.mark.parametrize(
    ("annotation", "accepted", "refused"),
    [
        (int, [1, True], ["1", None]),
        (None, [None], [0]),
        (type(None), [None], [0]),
        (Optional[int], [None, 1], ["1"]),  # noqa: UP045
        (Union[int, str], [1, "1"], [1.0]),  # noqa: UP007
        (int | None, [1, None], [1.0]),
        (type[Shape], [Shape, Circle], [Shape(), int]),
        (type[Shape | int], [Circle, int], [str]),
        (type[Any], [int], [1]),
        (type, [int], [1]),
        (Literal[1, "a"], [1, "a"], [True, 1.0, "b"]),
        (Annotated[int, "doc"], [1], ["1"]),
        (NewType("Id", int), [1], ["1"]),
        (list[int], [[], ["not checked"]], [()]),
    ],
)
def test_predicates(annotation: Any, accepted: list[Any], refused: list[Any]) -> None:
    predicate = predicate_for(annotation)

    assert predicate is not None
    assert [predicate(value) for value in accepted] == [True] * len(accepted)
    assert [predicate(value) for value in refused] == [False] * len(refused)


@pytest.mark.parametrize(
    "annotation",
    [Any, T, HasArea, int | HasArea, "Forward", Union[int, T]],  # noqa: UP007
)
def test_annotations_that_say_nothing_checkable(annotation: Any) -> None:
    assert predicate_for(annotation) is None


@pytest.mark.parametrize(
    ("value", "described"),
    [
        (Circle, f"the class {__name__}.Circle"),
        (int, "the class int"),
        ("short", "'short'"),
        ("x" * 41, "a str"),
        (Circle(), f"a {__name__}.Circle"),
        (b"raw", "b'raw'"),
    ],
)
def test_what_came_is_described_without_calling_repr(
    value: Any, described: str
) -> None:
    types = ArgumentTypes({"value": "bool"}, {"value": "bool"}, {})

    with pytest.raises(SignalArgumentTypeError) as caught:
        types.check("sig", "send", {"value": value})

    assert (
        str(caught.value)
        == f"sig.send(): argument 'value' must be bool, got {described}."
    )


def test_arguments_without_annotation_are_not_checked() -> None:
    types = ArgumentTypes({"value": "int"}, {"value": "int"}, {})

    types.check("sig", "send", {"other": object(), "value": 1})


def test_quoted_annotation_under_postponed_annotations() -> None:
    @signal(name="tests.runtime_types.quoted")
    def quoted(sender: Any, *, value: "Circle") -> None: ...  # noqa: UP037

    send: Any = quoted.send
    try:
        assert quoted.arg_types["value"] == "Circle"
        with override_settings(SIGNALKIT_CHECK_TYPES=True):
            send(sender=None, value=Circle())
            with pytest.raises(SignalArgumentTypeError, match="must be Circle"):
                send(sender=None, value=Shape())
    finally:
        from signalkit import registry

        registry.unregister(quoted)
