"""``Signal.send_on_commit()``: checked at once, sent when the transaction commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from signalkit import Signal, SignalArgumentError, registry


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    """What the receiver of :func:`published` got, one dict per send."""
    return []


@pytest.fixture
def published(sent: list[dict[str, Any]]) -> Iterator[Signal]:
    """A declared signal whose receiver notes each send in ``sent``."""
    signal = Signal(name="signalkit_tests.published", args=["post"])

    def note(sender: Any, **kwargs: Any) -> None:
        sent.append({"sender": sender, **kwargs})

    signal.connect(note, weak=False)
    yield signal
    registry.unregister(signal)


class Abort(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_sends_at_once(
    published: Signal, sent: list[dict[str, Any]]
) -> None:
    published.send_on_commit(sender="blog", post=1)

    assert sent == [{"sender": "blog", "signal": published, "post": 1}]


@pytest.mark.django_db
def test_inside_a_transaction_sends_when_it_commits(
    published: Signal,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        published.send_on_commit(sender="blog", post=1)
        assert sent == []

    assert sent == [{"sender": "blog", "signal": published, "post": 1}]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(
    published: Signal, sent: list[dict[str, Any]]
) -> None:
    def publish_then_abort() -> None:
        with transaction.atomic():
            published.send_on_commit(sender="blog", post=1)
            raise Abort

    with pytest.raises(Abort):
        publish_then_abort()

    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_savepoint_sends_nothing_when_the_outer_transaction_commits(
    published: Signal, sent: list[dict[str, Any]]
) -> None:
    def publish_in_savepoint_then_abort() -> None:
        with transaction.atomic():
            published.send_on_commit(sender="blog", post=2)
            raise Abort

    with transaction.atomic():
        published.send_on_commit(sender="blog", post=1)
        with pytest.raises(Abort):
            publish_in_savepoint_then_abort()

    assert [each["post"] for each in sent] == [1]


@pytest.mark.django_db
def test_wrong_arguments_raise_at_the_call_site_and_schedule_nothing(
    published: Signal,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(SignalArgumentError) as caught,
    ):
        published.send_on_commit(sender="blog", article=1)

    assert str(caught.value) == (
        "signalkit_tests.published.send_on_commit() missing required argument "
        "'post' and got unexpected argument 'article' (declared: post)"
    )
    assert callbacks == []


@pytest.mark.django_db
def test_using_names_the_database_whose_transaction_counts(
    published: Signal, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(using="default") as callbacks:
        published.send_on_commit(sender="blog", using="default", post=1)

    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_signal_that_declares_using_receives_the_alias() -> None:
    saved = Signal(name="signalkit_tests.saved", args=["using"])
    received: list[Any] = []
    saved.connect(lambda sender, using, **kwargs: received.append(using), weak=False)
    try:
        saved.send_on_commit(sender=None, using="default")
    finally:
        registry.unregister(saved)

    assert received == ["default"]
