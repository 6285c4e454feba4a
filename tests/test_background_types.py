"""signalkit.W012: a background receiver of a typed signal that would get an
argument whose declared type cannot travel to a worker."""

from __future__ import annotations

import datetime
import decimal
import gc
from collections.abc import Iterator
from typing import Annotated, Any, Literal, NewType, Optional, TypeVar

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest

import tasks_receivers
from signalkit import signal
from signalkit.background import connect_background
from signalkit.checks import check_background_argument_types
from signalkit.task_payload import untravelled
from testapp.models import Post

T = TypeVar("T")
PostId = NewType("PostId", int)
When = NewType("When", datetime.datetime)


@signal
def page_viewed(
    sender: Any,
    *,
    path: str,
    request: HttpRequest | None,
    post: Post | None = None,
    when: Annotated[datetime.datetime, "When the page was viewed"] | None = None,
) -> None:
    """Sent for each page view (a typed signal for these tests)."""


@pytest.fixture
def background_receiver() -> Iterator[dict[str, Any]]:
    """Connects tasks_receivers.log_path to page_viewed in the background
    with the options the test puts in the dict it gets."""
    options: dict[str, Any] = {}
    yield options
    page_viewed.disconnect(dispatch_uid="test-types")
    gc.collect()  # background_receivers() holds the proxies weakly


def connect(options: dict[str, Any]) -> None:
    connect_background(
        page_viewed, tasks_receivers.log_path, dispatch_uid="test-types", **options
    )


@pytest.mark.parametrize(
    ("annotation", "classes"),
    [
        (str, []),
        (int | None, []),
        (Optional[float], []),  # noqa: UP045 (the old spelling, as users write it)
        (bool, []),
        (list[int], []),
        (dict[str, list[int]], []),
        (set[int], []),
        (tuple[int, str], []),
        (Post, []),
        (User | None, []),
        (type[Post], []),
        (Literal["paid", 3, None], []),
        (PostId, []),
        (Annotated[int, "a count"], []),
        (Any, []),
        (object, []),
        (T, []),
        (HttpRequest, ["HttpRequest"]),
        (HttpRequest | None, ["HttpRequest"]),
        (decimal.Decimal | datetime.date, ["Decimal", "date"]),
        (When, ["datetime"]),
        (list[datetime.date], ["date"]),
        (dict[str, decimal.Decimal], ["Decimal"]),
        (type[HttpRequest], ["type[HttpRequest]"]),
        (type[Post | HttpRequest], ["type[HttpRequest]"]),
        (Literal[b"raw"], ["bytes"]),
        (Annotated[HttpRequest, "the request"], ["HttpRequest"]),
    ],
)
def test_untravelled_names_the_classes_whose_values_cannot_travel(
    annotation: object, classes: list[str]
) -> None:
    assert untravelled(annotation) == classes


def test_an_argument_whose_type_cannot_travel_is_warned_about(
    background_receiver: dict[str, Any],
) -> None:
    connect(background_receiver)

    warnings = check_background_argument_types()

    assert [(warning.id, warning.obj.path) for warning in warnings] == [
        ("signalkit.W012", "tasks_receivers.log_path"),
        ("signalkit.W012", "tasks_receivers.log_path"),
    ]
    assert warnings[0].msg == (
        "Background receiver tasks_receivers.log_path would get argument "
        f"'request' of {page_viewed.name}, declared as "
        "HttpRequest | None: HttpRequest cannot travel to a worker, so each send "
        "with such a value would raise BackgroundArgumentError before any "
        "receiver runs."
    )
    assert warnings[0].hint == (
        "Leave it out with @signalkit.receiver(..., background=True, "
        "exclude=('request',)), or send a value that travels (a model "
        "instance, a pk, JSON)."
    )
    assert "argument 'when'" in warnings[1].msg
    assert "datetime cannot travel" in warnings[1].msg


def test_excluded_arguments_are_not_warned_about(
    background_receiver: dict[str, Any],
) -> None:
    background_receiver["exclude"] = ("request", "when")
    connect(background_receiver)

    assert check_background_argument_types() == []


def test_untyped_signals_are_not_checked() -> None:
    # tasks_receivers.request_made (Signal(args=...)) carries a request to a
    # background receiver too, but declares no types: nothing to go on.
    assert not tasks_receivers.request_made.resolved_annotations()
    assert check_background_argument_types() == []


def test_a_disconnected_background_receiver_is_forgotten() -> None:
    from signalkit.background import background_receivers

    connect({})
    page_viewed.disconnect(dispatch_uid="test-types")
    gc.collect()

    assert [
        proxy for proxy in background_receivers() if proxy.signal is page_viewed
    ] == []
