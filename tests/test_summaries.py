from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy

from signalkit.summaries import MASK, Summarizer, summarize, summarize_arguments
from testapp.models import Post


class Color(enum.Enum):
    RED = 1


def _summary(value: Any, max_length: int = 200) -> str:
    return summarize(value, max_length=max_length, sensitive=("password",))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "'text'"),
        (b"raw", "b'raw'"),
        (3, "3"),
        (1.5, "1.5"),
        (None, "None"),
        (True, "True"),
        (decimal.Decimal("1.10"), "Decimal('1.10')"),
        (datetime.date(2026, 1, 2), "datetime.date(2026, 1, 2)"),
        (uuid.UUID(int=0), "UUID('00000000-0000-0000-0000-000000000000')"),
        (Color.RED, "Color.RED"),
        ([1, "a"], "[1, 'a']"),
        ((1,), "(1)"),
        ({1}, "{1}"),
        ({"a": 1}, "{'a': 1}"),
        ({"password": "hunter2"}, f"{{'password': {MASK}}}"),
        (Post, "testapp.Post"),
        (Color, f"{__name__}.Color"),
        (ValueError("bad"), "ValueError: bad"),
        (gettext_lazy("hello"), "<lazy __proxy__>"),
        (object(), "<builtins.object object>"),
        (_summary, f"{__name__}._summary"),
    ],
)
def test_values_are_summarised(value: Any, expected: str) -> None:
    assert _summary(value) == expected


def test_model_instance_shows_label_and_pk_without_str() -> None:
    assert _summary(Post(pk=5, title="<b>")) == "<testapp.Post pk=5>"
    assert _summary(Post()) == "<testapp.Post pk=None>"


@pytest.mark.django_db
def test_queryset_is_never_evaluated(django_assert_num_queries: Any) -> None:
    Post.objects.create(title="one")
    queryset = Post.objects.all()

    with django_assert_num_queries(0):
        assert _summary(queryset) == "<QuerySet of testapp.Post, not evaluated>"
    assert queryset._result_cache is None
    list(queryset)
    assert _summary(queryset) == "<QuerySet of testapp.Post, 1 rows>"


@pytest.mark.django_db
def test_lazy_objects_are_not_evaluated(django_assert_num_queries: Any) -> None:
    user = User.objects.create(username="ann")
    lazy = SimpleLazyObject(lambda: User.objects.get(pk=user.pk))

    with django_assert_num_queries(0):
        assert _summary(lazy) == "<SimpleLazyObject, not evaluated>"
    lazy.pk  # noqa: B018  (evaluates it)
    assert _summary(lazy) == f"<auth.User pk={user.pk}>"


def test_request_shows_method_and_path() -> None:
    request = HttpRequest()
    request.method = "POST"
    request.path = "/posts/new/"
    assert _summary(request) == "<HttpRequest POST '/posts/new/'>"


def test_long_values_are_truncated() -> None:
    assert _summary("x" * 50, max_length=10) == "'xxxxxxxx…"


def test_long_containers_are_cut() -> None:
    summary = _summary(list(range(15)))
    assert summary == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … 5 more]"
    assert _summary(dict.fromkeys(range(12), 0)).endswith(", … 2 more}")


def test_deep_nesting_stops_at_object_labels() -> None:
    assert _summary([[[1]]]) == "[[<builtins.list object>]]"


def test_unprintable_values_do_not_break_a_send() -> None:
    class Exploding(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert _summary(Exploding()) == (
        "<unprintable test_unprintable_values_do_not_break_a_send.<locals>"
        ".Exploding: RuntimeError>"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "None"),
        (7, "7"),
        ("x" * 50, "'xxxxxxxxxx…"),
        (Post, "testapp.Post"),
    ],
)
def test_a_summarizer_gives_the_same_summaries(value: Any, expected: str) -> None:
    summarizer = Summarizer(max_length=12, sensitive=())
    assert summarizer.summarize(value) == expected
    assert summarize(value, max_length=12) == expected


def test_an_int_too_long_for_str_is_unprintable() -> None:
    huge = 10**5000
    expected = "<unprintable int: ValueError>"
    assert Summarizer(max_length=50, sensitive=()).summarize(huge) == expected
    assert summarize(huge, max_length=50) == expected


def test_sensitive_arguments_are_masked_by_name() -> None:
    summaries = summarize_arguments(
        {"user_password": "hunter2", "APIToken": "t", "title": "Hello"},
        max_length=50,
        sensitive=("password", "token"),
    )
    assert summaries == {"user_password": MASK, "APIToken": MASK, "title": "'Hello'"}


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("password", True),
        ("user_password", True),
        ("userpassword", True),
        ("api_key", True),
        ("authToken", True),
        ("HTTP_AUTHORIZATION", True),
        ("session_key", True),
        ("author", False),
        ("monkey", False),
        ("passenger", False),
        ("title", False),
    ],
)
def test_default_sensitive_words(name: str, masked: bool) -> None:
    from signalkit.conf import conf
    from signalkit.summaries import is_sensitive

    assert is_sensitive(name, conf.SENSITIVE_ARGS) is masked


def test_a_summarizer_names_a_class_it_described_before_the_same_way() -> None:
    summarizer = Summarizer(max_length=200, sensitive=())

    assert summarizer.summarize(Post) == summarizer.summarize(Post) == "testapp.Post"


def test_a_summarizer_cuts_a_long_class_label_it_described_before() -> None:
    summarizer = Summarizer(max_length=5, sensitive=())
    summarizer.summarize(Post)

    assert summarizer.summarize(Post) == "test…"
