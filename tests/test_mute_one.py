"""mute(signal, sender=...) and mute(signal, receiver=...): one sender's sends
or one receiver muted, Django's connections and sender cache untouched."""

from __future__ import annotations

import asyncio
import threading
import unittest
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal
from factory.base import Factory

from signalkit.pytest_plugin import marker_mutes
from signalkit.testing import capture, mute
from testapp.models import Comment, Post
from testapp.signals import legacy_event


def first(**kwargs: Any) -> str:
    return "first"


def second(**kwargs: Any) -> str:
    return "second"


def third(**kwargs: Any) -> str:
    return "third"


async def afirst(**kwargs: Any) -> str:
    return "afirst"


async def asecond(**kwargs: Any) -> str:
    return "asecond"


@pytest.fixture
def signal() -> DjangoSignal:
    """A signal with first, second and third connected, in that order."""
    signal = DjangoSignal()
    for receiver in (first, second, third):
        signal.connect(receiver)
    return signal


def answers(responses: list[tuple[Any, Any]]) -> list[Any]:
    return [response for _, response in responses]


# sender=


def test_mute_of_one_sender_mutes_only_its_sends(signal: DjangoSignal) -> None:
    with mute(signal, sender=Post):
        assert signal.send(sender=Post) == []
        assert answers(signal.send(sender=Comment)) == ["first", "second", "third"]
        assert answers(signal.send_robust(sender=Comment)) == [
            "first",
            "second",
            "third",
        ]
        assert signal.send_robust(sender=Post) == []
    assert answers(signal.send(sender=Post)) == ["first", "second", "third"]


class Equal:
    """A sender equal to every other."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0


def test_mute_of_one_sender_compares_senders_by_identity(
    signal: DjangoSignal,
) -> None:
    # As Django's connect(sender=...) does: an equal object is another sender.
    muted, other = Equal(), Equal()
    with mute(signal, sender=muted):
        assert answers(signal.send(sender=other)) == ["first", "second", "third"]
        assert signal.send(sender=muted) == []


def test_mute_of_one_sender_is_recorded_as_muted(signal: DjangoSignal) -> None:
    with capture(signal) as captured, mute(signal, sender=Post):
        signal.send(sender=Post)
        signal.send(sender=Comment)

    muted, heard = captured.sends
    assert (muted.muted, muted.muted_receivers) == (
        True,
        [f"{__name__}.first", f"{__name__}.second", f"{__name__}.third"],
    )
    assert muted.receivers == []
    assert not heard.muted
    assert [call.name for call in heard.receivers] == [
        f"{__name__}.first",
        f"{__name__}.second",
        f"{__name__}.third",
    ]


def test_has_listeners_follows_the_mute_of_one_sender(signal: DjangoSignal) -> None:
    with mute(signal, sender=Post):
        assert not signal.has_listeners(Post)
        assert signal.has_listeners(Comment)


# receiver=


def test_mute_of_one_receiver_runs_the_others_in_their_order(
    signal: DjangoSignal,
) -> None:
    with mute(signal, receiver=second):
        responses = signal.send(sender=Post)
        robust = signal.send_robust(sender=Post)

    # The skipped receiver gives no response, as if it were not connected.
    assert responses == [(first, "first"), (third, "third")]
    assert robust == [(first, "first"), (third, "third")]
    assert answers(signal.send(sender=Post)) == ["first", "second", "third"]


def test_mute_of_a_list_of_receivers(signal: DjangoSignal) -> None:
    with mute(signal, receiver=[first, third]):
        assert signal.send(sender=Post) == [(second, "second")]


def test_mute_of_one_async_receiver() -> None:
    signal = DjangoSignal()
    for receiver in (first, afirst, second, asecond):
        signal.connect(receiver)

    async def send() -> list[tuple[Any, Any]]:
        with mute(signal, receiver=[afirst, second]):
            return await signal.asend(sender=Post)

    assert asyncio.run(send()) == [(first, "first"), (asecond, "asecond")]


def test_mute_of_a_bound_method_receiver() -> None:
    class Listener:
        def __init__(self, name: str) -> None:
            self.name = name

        def hear(self, **kwargs: Any) -> str:
            return self.name

    signal = DjangoSignal()
    loud, quiet = Listener("loud"), Listener("quiet")
    signal.connect(loud.hear)
    signal.connect(quiet.hear)  # weakly: a new bound method on each send

    with mute(signal, receiver=quiet.hear):
        assert answers(signal.send(sender=None)) == ["loud"]


def test_mute_of_one_receiver_is_recorded(signal: DjangoSignal) -> None:
    with capture(signal) as captured, mute(signal, receiver=second):
        signal.send(sender=Post)

    (send,) = captured.sends
    assert not send.muted
    assert send.muted_receivers == [f"{__name__}.second"]
    assert [call.name for call in send.receivers] == [
        f"{__name__}.first",
        f"{__name__}.third",
    ]


def test_has_listeners_follows_the_mute_of_every_receiver() -> None:
    signal = DjangoSignal()
    signal.connect(first)
    with mute(signal, receiver=first):
        # As if it were not connected: nothing listens any more.
        assert not signal.has_listeners(Post)
        assert signal.send(sender=Post) == []
    assert signal.has_listeners(Post)


def test_sender_and_receiver_together(signal: DjangoSignal) -> None:
    with mute(signal, sender=Post, receiver=second):
        assert answers(signal.send(sender=Post)) == ["first", "third"]
        assert answers(signal.send(sender=Comment)) == ["first", "second", "third"]


def test_nested_mutes_add_up(signal: DjangoSignal) -> None:
    with mute(signal, receiver=first):
        with mute(signal, sender=Comment, receiver=third):
            assert answers(signal.send(sender=Comment)) == ["second"]
            assert answers(signal.send(sender=Post)) == ["second", "third"]
            with mute(signal, sender=Post):
                assert signal.send(sender=Post) == []
        assert answers(signal.send(sender=Comment)) == ["second", "third"]


# Django's state


def cache_of(signal: DjangoSignal) -> dict[Any, Any]:
    return dict(signal.sender_receivers_cache)


def test_connections_and_the_sender_cache_end_as_in_plain_django() -> None:
    # Two twins: one sent under mutes, one plainly; Django's state must match.
    muted, plain = DjangoSignal(use_caching=True), DjangoSignal(use_caching=True)
    for twin in (muted, plain):
        twin.connect(first, sender=Post)
        twin.connect(second)
        twin.connect(third, sender=Comment)

    with mute(muted, receiver=second), mute(muted, sender=Comment):
        for sender in (Post, Comment, Post):
            muted.send(sender=sender)
        assert muted.receivers == plain.receivers
    for sender in (Post, Comment, Post):
        plain.send(sender=sender)

    assert muted.receivers == plain.receivers
    assert cache_of(muted) == cache_of(plain)
    assert set(cache_of(muted)) == {Post, Comment}
    assert answers(muted.send(sender=Post)) == ["first", "second"]
    assert answers(muted.send(sender=Comment)) == ["second", "third"]


# Where it applies


def test_mute_of_one_receiver_leaves_other_threads_alone(
    signal: DjangoSignal,
) -> None:
    elsewhere: list[list[Any]] = []
    with mute(signal, receiver=second):
        thread = threading.Thread(
            target=lambda: elsewhere.append(answers(signal.send(sender=Post)))
        )
        thread.start()
        thread.join()
        here = answers(signal.send(sender=Post))

    assert elsewhere == [["first", "second", "third"]]
    assert here == ["first", "third"]


def test_decorated_function_and_coroutine_function(signal: DjangoSignal) -> None:
    @mute(signal, sender=Post, receiver=first)
    def send(sender: Any) -> list[Any]:
        return answers(signal.send(sender=sender))

    @mute(signal, receiver=third)
    async def asend() -> list[Any]:
        return answers(await signal.asend(sender=Post))

    assert send(Post) == ["second", "third"]
    assert send(Comment) == ["first", "second", "third"]
    assert asyncio.run(asend()) == ["first", "second"]
    assert answers(signal.send(sender=Post)) == ["first", "second", "third"]


def test_decorated_test_case_and_factory() -> None:
    heard: list[list[Any]] = []

    def listen(**kwargs: Any) -> str:
        return "listen"

    legacy_event.connect(first)
    legacy_event.connect(listen)
    try:

        @mute(legacy_event, sender=Post, receiver=listen)
        class Quiet(unittest.TestCase):
            def test_send(self) -> None:
                heard.append(answers(legacy_event.send(sender=Post)))

        @mute(legacy_event, receiver=listen)
        class QuietFactory(Factory[Post]):
            class Meta:
                model = Post

            @classmethod
            def _create(cls, model_class: type[Post], **kwargs: Any) -> Post:
                heard.append(answers(legacy_event.send(sender=Comment)))
                return model_class(**kwargs)

        result = unittest.TestResult()
        unittest.defaultTestLoader.loadTestsFromTestCase(Quiet).run(result)
        QuietFactory.create(title="t")
        after = answers(legacy_event.send(sender=Post))
    finally:
        legacy_event.disconnect(first)
        legacy_event.disconnect(listen)

    assert result.wasSuccessful()
    assert heard == [["first"], ["first"]]
    assert after == ["first", "listen"]


# Bad input


def test_a_receiver_not_connected_to_the_signal_is_refused(
    signal: DjangoSignal,
) -> None:
    def stranger(**kwargs: Any) -> None: ...

    muted = mute(legacy_event, receiver=stranger)  # checked when the block starts
    message = (
        f"mute(receiver=...): {__name__}.{stranger.__qualname__} is not connected "
        "to testapp.signals.legacy_event, so muting it there would mute nothing."
    )
    with pytest.raises(ValueError, match="is not connected") as raised, muted:
        pass
    assert str(raised.value) == message


def test_a_receiver_is_checked_against_each_signal(signal: DjangoSignal) -> None:
    signal.connect(first)
    with (
        pytest.raises(ValueError, match="legacy_event"),
        mute(signal, legacy_event, receiver=first),
    ):
        pass
    assert answers(signal.send(sender=None)) == ["first", "second", "third"]


@pytest.mark.parametrize(
    ("receiver", "message"),
    [
        ("testapp.receivers.first", "not str 'testapp.receivers.first'"),
        ([], "needs at least one receiver"),
        ([first, 3], "not int 3"),
    ],
)
def test_a_receiver_that_is_not_callable_is_refused(
    receiver: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        mute(legacy_event, receiver=receiver)


# The pytest marker


def listen_marked(**kwargs: Any) -> str:
    return "marked"


def other_marked(**kwargs: Any) -> str:
    return "other"


# Connected when the module is imported: the marker's mute starts before any
# fixture of the test could connect them.
marked = DjangoSignal()
marked.connect(listen_marked)
marked.connect(other_marked)


@pytest.mark.mute_signals(marked, sender=Post)
@pytest.mark.mute_signals(marked, receiver=listen_marked)
def test_the_marker_takes_sender_and_receiver() -> None:
    assert marked.send(sender=Post) == []
    assert marked.send(sender=Comment) == [(other_marked, "other")]


def test_the_marker_refuses_an_option_mute_does_not_take() -> None:
    markers = [
        pytest.mark.mute_signals(marked).mark,
        pytest.mark.mute_signals(marked, senders=Post).mark,
    ]

    with pytest.raises(TypeError) as raised:
        marker_mutes(markers)

    assert str(raised.value) == (
        "unknown option senders (it takes sender= and receiver=)."
    )
