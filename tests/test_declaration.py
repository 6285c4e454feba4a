"""@signalkit.signal: a signal declared as a function signature."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, NewType, Optional, TypeVar

import pytest
from django.db import transaction

import signalkit
import typed_signals
import typed_signals_eager
from signalkit import Signal, SignalArgumentError, registry, signal
from signalkit.contract import type_text
from signalkit.exceptions import DuplicateSignalError, SignalDeclarationError
from testapp.models import Post


@pytest.fixture
def unchanged_registry() -> Iterator[None]:
    before = [entry.name for entry in registry]
    yield
    assert [entry.name for entry in registry] == before


def test_declaration_is_a_registered_signalkit_signal() -> None:
    declared = typed_signals.post_published

    assert isinstance(declared, Signal)
    assert declared.name == "typed_signals.post_published"
    assert registry["typed_signals.post_published"].signal is declared


def test_signal_is_exported_from_the_package() -> None:
    assert signalkit.signal is signal


def test_keyword_only_parameters_are_the_arguments_and_a_default_makes_one_optional() -> (
    None
):
    declared = typed_signals.post_published

    assert list(declared.args) == ["post", "user"]
    assert list(declared.optional_args) == ["note"]


def test_google_docstring_describes_the_arguments_and_the_rest_is_the_doc() -> None:
    declared = typed_signals.post_published

    assert declared.args["post"] == "The Post that was published."
    assert declared.optional_args["note"] == "A remark for the followers."
    assert declared.doc == (
        "Sent after a blog post is published.\n\n"
        "Receivers get ``note`` only when the sender passes it."
    )


def test_annotated_gives_a_description_under_postponed_annotations() -> None:
    assert typed_signals.post_published.args["user"] == "Who published it"


def test_annotated_gives_a_description_with_evaluated_annotations() -> None:
    assert typed_signals_eager.item_moved.args["item"] == "The item's id"


def test_sphinx_params_describe_the_arguments() -> None:
    declared = typed_signals.order_paid

    assert declared.args["order"] == "The order."
    assert declared.args["amount"] == "What was paid, in the order's currency."
    assert declared.doc == "Sent when an order is paid."


def test_name_and_use_caching_options() -> None:
    declared = typed_signals.order_paid

    assert declared.name == "typed_signals.orders.paid"
    assert declared.use_caching is True
    assert typed_signals.post_published.use_caching is False


def test_argument_types_read_as_written() -> None:
    assert dict(typed_signals.post_published.arg_types) == {
        "post": "Post",
        "user": "User",
        "note": "str | None",
    }
    assert dict(typed_signals.order_paid.arg_types)["status"] == (
        "Literal['paid', 'refunded']"
    )


def test_argument_types_of_evaluated_annotations_read_by_name() -> None:
    assert dict(typed_signals_eager.item_moved.arg_types) == {
        "item": "int",
        "to": "str | None",
        "by": "UserId | None",
        "thing": "Named",
        "flags": "dict[str, bool]",
    }


def test_plain_signal_has_no_argument_types() -> None:
    plain = Signal(name="tests.declaration.plain", args=["post"])
    try:
        assert dict(plain.arg_types) == {}
    finally:
        registry.unregister(plain)


def test_send_checks_the_declared_arguments() -> None:
    send: Any = typed_signals.post_published.send  # a send mypy refuses
    with pytest.raises(SignalArgumentError, match="missing required argument 'user'"):
        send(sender=Post, post=Post())


def test_optional_argument_is_never_injected() -> None:
    received: list[dict[str, Any]] = []

    def remember(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    typed_signals.post_published.connect(remember)
    try:
        post, user = Post(), typed_signals.User()
        typed_signals.post_published.send(sender=Post, post=post, user=user)
    finally:
        typed_signals.post_published.disconnect(remember)

    assert received == [
        {"signal": typed_signals.post_published, "post": post, "user": user}
    ]


@pytest.mark.django_db(transaction=True)
def test_send_on_commit_using_sends_after_that_database_commits() -> None:
    received: list[str] = []

    def remember(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs["note"])

    typed_signals.post_published.connect(remember)
    try:
        with transaction.atomic(using="default"):
            typed_signals.post_published.send_on_commit_using(
                "default", Post, post=Post(), user=typed_signals.User(), note="late"
            )
            assert received == []
    finally:
        typed_signals.post_published.disconnect(remember)

    assert received == ["late"]


def test_declared_inside_a_function_has_no_name_until_assigned() -> None:
    @signal
    def local_event(sender: Any, *, value: int) -> None:
        """A local signal."""

    assert registry.name_of(local_event) is None
    assert registry.label(local_event) == (
        f"<signal defined at {__file__}:{local_event._defined_at.rpartition(':')[2]}>"
    )


def test_defined_at_is_the_declaration() -> None:
    declared = typed_signals.post_published
    entry = registry.entry_for(declared)

    assert entry is not None
    assert entry.module == "typed_signals"
    assert entry.defined_at is not None
    assert entry.defined_at.startswith(f"{typed_signals.__file__}:")


def _declare(function: Any, **options: Any) -> Any:
    return signal(**options)(function) if options else signal(function)


@pytest.mark.usefixtures("unchanged_registry")
class TestRefused:
    def test_missing_sender(self) -> None:
        def event(*, value: int) -> None: ...

        with pytest.raises(
            SignalDeclarationError,
            match=r"event: the first parameter must be sender \(with no default\); "
            r"write def event\(sender: type\[Model\], \*, argument: Type\) -> None\.",
        ):
            _declare(event)

    def test_sender_with_a_default(self) -> None:
        def event(sender: Any = None, *, value: int) -> None: ...

        with pytest.raises(
            SignalDeclarationError, match="first parameter must be sender"
        ):
            _declare(event)

    def test_keyword_only_sender(self) -> None:
        def event(*, sender: Any, value: int) -> None: ...

        with pytest.raises(
            SignalDeclarationError, match="first parameter must be sender"
        ):
            _declare(event)

    def test_positional_argument(self) -> None:
        def event(sender: Any, value: int) -> None: ...

        with pytest.raises(
            SignalDeclarationError,
            match=r"event: parameter 'value' cannot be part of a signal declaration; "
            r"make it keyword-only: def event\(sender, \*, value\.\.\.\)\.",
        ):
            _declare(event)

    def test_star_args(self) -> None:
        def event(sender: Any, *args: Any) -> None: ...

        with pytest.raises(
            SignalDeclarationError,
            match=r"parameter '\*args' cannot be part of a signal declaration; "
            r"signals send keyword arguments only",
        ):
            _declare(event)

    def test_star_star_kwargs(self) -> None:
        def event(sender: Any, **kwargs: Any) -> None: ...

        with pytest.raises(
            SignalDeclarationError,
            match=r"parameter '\*\*kwargs' cannot be part of a signal declaration; "
            r"declare each argument by name",
        ):
            _declare(event)

    def test_a_body_that_does_something(self) -> None:
        def event(sender: Any, *, value: int) -> None:
            """Doc."""
            print(value)

        with pytest.raises(
            SignalDeclarationError,
            match=r"the body of a signal declaration is its docstring only .*"
            r"\(@receiver\(event\)\)",
        ):
            _declare(event)

    def test_a_return_type(self) -> None:
        def event(sender: Any, *, value: int) -> int: ...  # type: ignore[empty-body]

        with pytest.raises(
            SignalDeclarationError, match=r"write -> None, not -> int\."
        ):
            _declare(event)

    def test_a_reserved_argument_name(self) -> None:
        def event(sender: Any, *, signal: int) -> None: ...

        with pytest.raises(
            SignalDeclarationError, match="'signal', which Django passes"
        ):
            _declare(event, name="tests.declaration.reserved")

    def test_docstring_describing_an_unknown_argument(self) -> None:
        def event(sender: Any, *, user: int) -> None:
            """Doc.

            Args:
                usr: Misspelt.
            """

        with pytest.raises(
            SignalDeclarationError,
            match=r"the docstring describes 'usr', which is not a keyword-only "
            r"parameter \(declared: user\)\.",
        ):
            _declare(event)

    def test_docstring_describing_an_argument_twice(self) -> None:
        def event(sender: Any, *, user: int) -> None:
            """:param user: One.
            :param user: Two.
            """

        with pytest.raises(SignalDeclarationError, match="describes 'user' twice"):
            _declare(event)

    def test_not_a_function(self) -> None:
        with pytest.raises(SignalDeclarationError, match="not ModelBase"):
            _declare(Post)

    def test_a_taken_name(self) -> None:
        def event(sender: Any, *, value: int) -> None: ...

        with pytest.raises(DuplicateSignalError, match=r"typed_signals\.orders\.paid"):
            _declare(event, name="typed_signals.orders.paid")


def test_docstring_may_describe_the_sender() -> None:
    @signal
    def event(sender: Any, *, value: int) -> None:
        """Doc.

        Args:
            sender: The model class.
            value: The value.
        """

    assert dict(event.args) == {"value": "The value."}
    assert event.doc == "Doc."


def test_docstring_without_arguments_section() -> None:
    @signal
    def event(sender: Any, *, value: Annotated[int, 1, "The value"]) -> None:
        """First line.

        Second paragraph.
        """

    assert event.doc == "First line.\n\nSecond paragraph."
    assert dict(event.args) == {"value": "The value"}


def test_google_section_stops_at_the_next_unindented_line() -> None:
    @signal
    def event(sender: Any, *, first: int, second: int = 0) -> None:
        """Doc.

        Arguments:

            first: One.
              continued.
            not an item line
            second: Two.
        Afterwards.
        """

    assert dict(event.args) == {"first": "One. continued."}
    assert dict(event.optional_args) == {"second": "Two."}
    assert event.doc == "Doc.\n\nAfterwards."


def test_string_annotation_that_does_not_parse_reads_as_written() -> None:
    @signal
    def event(sender: Any, *, value: "not python(") -> None: ...  # type: ignore[valid-type]  # noqa: F722

    assert dict(event.arg_types) == {"value": "not python("}


def test_parameter_without_annotation_has_no_type() -> None:
    @signal
    def event(sender, *, value) -> None: ...  # type: ignore[no-untyped-def]

    assert dict(event.arg_types) == {}
    assert list(event.args) == ["value"]


def test_module_is_importable_twice() -> None:
    # Re-importing a module of declarations is not a name conflict.
    del sys.modules["typed_signals_eager"]
    try:
        import typed_signals_eager as again

        assert again.item_moved.name == "typed_signals_eager.item_moved"
    finally:
        sys.modules["typed_signals_eager"] = typed_signals_eager


T = TypeVar("T")


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        ("Post | None", "Post | None"),
        (None, "None"),
        (type(None), "None"),
        (Optional[int], "int | None"),  # noqa: UP045
        (int | str, "int | str"),
        (Annotated[int, "doc"], "int"),
        (Literal["draft", 1], "Literal['draft', 1]"),
        (type[Post], "type[Post]"),
        (dict[str, list[int]], "dict[str, list[int]]"),
        (Callable[[int, str], None], "Callable[[int, str], None]"),
        (Callable[..., None], "Callable[..., None]"),
        (Any, "Any"),
        (T, "~T"),
        (NewType("PostId", int), "PostId"),
    ],
)
def test_type_text(annotation: Any, text: str) -> None:
    assert type_text(annotation) == text
