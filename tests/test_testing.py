from __future__ import annotations

import asyncio
import functools
import inspect
import re
import threading
import unittest
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import pytest
from django.db import connections
from django.db.models.signals import post_save
from django.dispatch import Signal as DjangoSignal
from django.test import SimpleTestCase
from factory.base import Factory, FactoryMetaClass
from factory.helpers import post_generation

from signalkit.exceptions import UnknownSignalError
from signalkit.testing import Capture, capture, mute
from testapp.models import Post
from testapp.signals import comment_added, legacy_event, post_published

Connect = Callable[..., Callable[..., Any]]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Connect receivers for one test; disconnect them afterwards."""
    connected: list[tuple[DjangoSignal, Callable[..., Any], Any]] = []

    def connect(
        signal: DjangoSignal, receiver: Callable[..., Any], sender: Any = None
    ) -> Callable[..., Any]:
        signal.connect(receiver, sender=sender, weak=False)
        connected.append((signal, receiver, sender))
        return receiver

    yield connect
    for signal, receiver, sender in connected:
        signal.disconnect(receiver, sender=sender)


def calls_of(signal: DjangoSignal, connect: Connect) -> list[dict[str, Any]]:
    """Connect a receiver to *signal* that logs the arguments of each call."""
    calls: list[dict[str, Any]] = []

    def log(**kwargs: Any) -> None:
        calls.append(kwargs)

    connect(signal, log)
    return calls


def publish(post_id: int = 1, user: str = "alice", post: Post | None = None) -> Post:
    """Send post_published; pass *post* to keep pre_init/post_init out of a capture."""
    post = post or Post(pk=post_id, title="Hello")
    post_published.send(sender=Post, post=post, user=user)
    return post


# capture()


def test_capture_keeps_signal_sender_arguments_and_receivers() -> None:
    with capture(post_published) as signals:
        post = publish()

    (send,) = signals.sends
    assert send.signal is post_published
    assert send.sender is Post
    assert send.kwargs == {"post": post, "user": "alice"}
    assert [call.name for call in send.receivers] == [
        "testapp.signals.remember_publication"
    ]
    assert send.receivers[0].result == "remembered"


def test_capture_of_given_signals_leaves_out_the_others() -> None:
    with capture(legacy_event) as signals:
        publish()
        legacy_event.send(sender=None)

    assert [send.signal for send in signals.sends] == [legacy_event]


def test_capture_without_arguments_captures_every_signal() -> None:
    post = Post(pk=1)

    with capture() as signals:
        publish(post=post)
        legacy_event.send(sender=None)

    assert [send.signal for send in signals.sends] == [post_published, legacy_event]
    assert signals.signals is None


def test_capture_accepts_dotted_names() -> None:
    with capture("testapp.signals.post_published") as signals:
        publish()

    assert signals.signals == (post_published,)
    signals.assert_sent("testapp.signals.post_published", times=1)


def test_capture_of_an_unknown_name_is_an_error() -> None:
    with (
        pytest.raises(UnknownSignalError, match=r"testapp\.signals\.post_publishd"),
        capture("testapp.signals.post_publishd"),
    ):
        pass


def test_capture_of_a_short_name_suggests_the_dotted_name() -> None:
    with (
        pytest.raises(
            UnknownSignalError,
            match=r"'post_save'\. Did you mean 'django\.db\.models\.signals\.post_save'",
        ),
        capture("post_save"),
    ):
        pass


def test_capture_of_something_that_is_not_a_signal_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Expected a signal"), capture(42):  # type: ignore[arg-type]
        pass


def test_capture_sees_nested_sends() -> None:
    def publish_comment(sender: Any, **kwargs: Any) -> None:
        comment_added.send(sender=None, comment="First!")

    post = Post(pk=1)
    post_published.connect(publish_comment, weak=False)
    try:
        with capture() as signals:
            publish(post=post)
    finally:
        post_published.disconnect(publish_comment)

    outer, inner = signals.sends
    assert inner.parent is outer
    assert signals.sends_of(comment_added) == [inner]


def test_capture_does_not_see_sends_of_other_threads() -> None:
    with capture(legacy_event) as signals:
        thread = threading.Thread(target=legacy_event.send, args=(None,))
        thread.start()
        thread.join()

    signals.assert_not_sent(legacy_event)


# assert_sent()


def test_assert_sent_returns_the_matching_sends() -> None:
    with capture(post_published) as signals:
        first = publish(1)
        publish(2)

    matching = signals.assert_sent(post_published, sender=Post, post=first)

    assert [send.kwargs["post"] for send in matching] == [first]


def test_assert_sent_checks_only_the_arguments_it_is_given() -> None:
    with capture(post_published) as signals:
        publish(user="bob")

    signals.assert_sent(post_published, user="bob")


def test_assert_sent_with_times_counts_matching_sends() -> None:
    with capture(post_published) as signals:
        publish(1, user="alice")
        publish(2, user="alice")
        publish(3, user="bob")

    signals.assert_sent(post_published, times=2, user="alice")
    signals.assert_sent(post_published, times=3)


def test_assert_sent_with_times_zero_passes_when_nothing_matches() -> None:
    with capture(post_published) as signals:
        publish(user="alice")

    signals.assert_sent(post_published, times=0, user="bob")


def test_assert_sent_with_wrong_sender_lists_what_was_sent() -> None:
    with capture(post_published) as signals:
        publish(5)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(post_published, sender=DjangoSignal)

    assert str(raised.value) == (
        "Expected testapp.signals.post_published("
        "sender=django.dispatch.dispatcher.Signal) to be sent; it was not.\n"
        "Sends of testapp.signals.post_published:\n"
        "  - testapp.signals.post_published(sender=testapp.Post, "
        "post=<testapp.Post pk=5>, user='alice')\n"
        "      sender: expected django.dispatch.dispatcher.Signal, got testapp.Post"
    )


def test_assert_sent_with_wrong_arguments_says_which_differ() -> None:
    with capture(post_published) as signals:
        publish(1)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(post_published, post=Post(pk=2), user="alice")

    message = str(raised.value)
    assert message.startswith(
        "Expected testapp.signals.post_published(post=<testapp.Post pk=2>, "
        "user='alice') to be sent; it was not.\n"
    )
    assert "      post: expected <testapp.Post pk=2>, got <testapp.Post pk=1>" in (
        message
    )
    assert "user: expected" not in message


def test_assert_sent_with_an_argument_that_was_not_passed_says_so() -> None:
    with capture(comment_added) as signals:
        comment_added.send(sender=None, comment="Hi")

    with pytest.raises(AssertionError, match="notify: expected True, not passed"):
        signals.assert_sent(comment_added, notify=True)


def test_assert_sent_with_a_sender_instance_shows_its_summary() -> None:
    with capture(legacy_event) as signals:
        legacy_event.send(sender=Post(pk=3))

    with pytest.raises(
        AssertionError,
        match=re.escape(
            "sender: expected <testapp.Post pk=4>, got <testapp.Post pk=3>"
        ),
    ):
        signals.assert_sent(legacy_event, sender=Post(pk=4))


def test_assert_sent_with_wrong_times_gives_the_count() -> None:
    with capture(post_published) as signals:
        publish(1)
        publish(2)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(post_published, times=1)

    assert str(raised.value).splitlines()[0] == (
        "Expected testapp.signals.post_published to be sent once; it was sent twice."
    )


def test_assert_sent_with_times_zero_fails_when_it_was_sent() -> None:
    with capture(post_published) as signals:
        publish(1)
        publish(2)
        publish(3)

    with pytest.raises(AssertionError, match="sent 0 times; it was sent 3 times"):
        signals.assert_sent(post_published, times=0)


def test_assert_sent_of_a_signal_never_sent_lists_the_other_signals() -> None:
    post = Post(pk=7)

    with capture() as signals:
        legacy_event.send(sender=None)
        publish(post=post)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(comment_added)

    assert str(raised.value) == (
        "Expected testapp.signals.comment_added to be sent; it was not.\n"
        "testapp.signals.comment_added was not sent at all.\n"
        "Other signals sent:\n"
        "  1. testapp.signals.legacy_event(sender=None)\n"
        "  2. testapp.signals.post_published(sender=testapp.Post, "
        "post=<testapp.Post pk=7>, user='alice')"
    )


def test_assert_sent_lists_at_most_twenty_other_sends() -> None:
    with capture() as signals:
        for _ in range(25):
            legacy_event.send(sender=None)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(comment_added)

    lines = str(raised.value).splitlines()
    assert lines[-2] == "  20. testapp.signals.legacy_event(sender=None)"
    assert lines[-1] == "  … and 5 more"


def test_assert_sent_when_nothing_was_sent_says_so() -> None:
    with capture(comment_added) as signals:
        pass

    with pytest.raises(AssertionError, match=r"No signals were sent\."):
        signals.assert_sent(comment_added)


def test_assert_sent_listing_indents_nested_sends() -> None:
    def publish_comment(sender: Any, **kwargs: Any) -> None:
        comment_added.send(sender=None, comment="First!")

    post = Post(pk=1)
    post_published.connect(publish_comment, weak=False)
    try:
        with capture() as signals:
            publish(post=post)
    finally:
        post_published.disconnect(publish_comment)

    with pytest.raises(AssertionError) as raised:
        signals.assert_sent(legacy_event)

    assert str(raised.value).endswith(
        "\n  2.   testapp.signals.comment_added(sender=None, comment='First!')"
    )


def test_assert_sent_of_a_signal_outside_the_capture_is_a_usage_error() -> None:
    with capture(post_published) as signals:
        publish()

    with pytest.raises(ValueError, match=r"legacy_event is not captured here"):
        signals.assert_sent(legacy_event)


def test_assert_sent_with_negative_times_is_a_usage_error() -> None:
    with capture(post_published) as signals:
        publish()

    with pytest.raises(ValueError, match="times must be 0 or more"):
        signals.assert_sent(post_published, times=-1)


def test_assert_sent_signature_reads_any_sender_by_default() -> None:
    signature = inspect.signature(Capture.assert_sent)

    assert "sender: 'Any' = ANY" in str(signature)


# assert_not_sent()


def test_assert_not_sent_passes_when_the_signal_was_not_sent() -> None:
    with capture() as signals:
        publish()

    signals.assert_not_sent(legacy_event)


def test_assert_not_sent_lists_the_sends_when_it_was_sent() -> None:
    with capture(post_published) as signals:
        publish(8)

    with pytest.raises(AssertionError) as raised:
        signals.assert_not_sent("testapp.signals.post_published")

    assert str(raised.value) == (
        "Expected testapp.signals.post_published not to be sent; it was sent once:\n"
        "  1. testapp.signals.post_published(sender=testapp.Post, "
        "post=<testapp.Post pk=8>, user='alice')"
    )


# mute()


def test_mute_stops_the_receivers_of_the_signal(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    with mute(legacy_event):
        legacy_event.send(sender=None)

    assert calls == []


def test_mute_leaves_other_signals_alone(connect: Connect) -> None:
    calls = calls_of(comment_added, connect)

    with mute(legacy_event):
        comment_added.send(sender=None, comment="Hi")

    assert len(calls) == 1


def test_mute_accepts_dotted_names(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    with mute("testapp.signals.legacy_event"):
        legacy_event.send(sender=None)

    assert calls == []


def test_mute_of_an_unknown_name_is_an_error() -> None:
    with (
        pytest.raises(UnknownSignalError, match="Did you mean"),
        mute("testapp.signals.legacy_evnt"),
    ):
        pass


def test_mute_without_signals_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="at least one signal"):
        mute()


def test_receivers_run_again_after_mute(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    with mute(legacy_event):
        legacy_event.send(sender=None)
    legacy_event.send(sender=None)

    assert len(calls) == 1


def test_mute_never_touches_the_connections(connect: Connect) -> None:
    calls_of(legacy_event, connect)
    before = list(legacy_event.receivers)

    with mute(legacy_event):
        during = list(legacy_event.receivers)

    assert during == before
    assert legacy_event.receivers == before


def test_receivers_run_again_when_the_muted_block_raises(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    with pytest.raises(RuntimeError, match="boom"), mute(legacy_event):
        raise RuntimeError("boom")
    legacy_event.send(sender=None)

    assert len(calls) == 1


def test_one_mute_object_can_be_entered_again_while_active(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)
    muted = mute(legacy_event)

    with muted:
        with muted:
            legacy_event.send(sender=None)
        legacy_event.send(sender=None)
    legacy_event.send(sender=None)

    assert len(calls) == 1


def test_mute_decorates_a_function(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    @mute(legacy_event)
    def send_twice(times: int) -> str:
        for _ in range(times):
            legacy_event.send(sender=None)
        return "sent"

    assert send_twice(2) == "sent"
    assert send_twice.__name__ == "send_twice"
    assert calls == []
    legacy_event.send(sender=None)
    assert len(calls) == 1


def test_mute_decorated_function_restores_receivers_when_it_raises(
    connect: Connect,
) -> None:
    calls = calls_of(legacy_event, connect)

    @mute(legacy_event)
    def fail() -> None:
        legacy_event.send(sender=None)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()
    legacy_event.send(sender=None)

    assert len(calls) == 1


def test_mute_decorates_a_coroutine_function(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)

    @mute(legacy_event)
    async def send_async() -> str:
        await legacy_event.asend(sender=None)
        return "sent"

    assert asyncio.run(send_async()) == "sent"
    assert calls == []
    legacy_event.send(sender=None)
    assert len(calls) == 1


def test_mute_decorated_coroutine_restores_receivers_when_it_raises(
    connect: Connect,
) -> None:
    calls = calls_of(legacy_event, connect)

    @mute(legacy_event)
    async def fail() -> None:
        await legacy_event.asend(sender=None)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(fail())
    legacy_event.send(sender=None)

    assert len(calls) == 1


def heard(signal: DjangoSignal) -> bool:
    """Whether a receiver of *signal* runs when it is sent now."""
    calls: list[object] = []

    def log(**kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(log)
    try:
        signal.send(sender=None)
    finally:
        signal.disconnect(log)
    return bool(calls)


def run_test_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    assert not result.errors, result.errors
    assert not result.failures, result.failures
    return result


@pytest.mark.parametrize("base", [unittest.TestCase, SimpleTestCase])
def test_mute_decorates_a_test_case_class_with_its_set_up_and_tear_down(
    base: type[unittest.TestCase],
) -> None:
    heard_in: dict[str, bool] = {}

    @mute(legacy_event)
    class Tests(base):  # type: ignore[valid-type,misc]
        @classmethod
        def setUpClass(cls) -> None:
            super().setUpClass()
            heard_in["setUpClass"] = heard(legacy_event)

        def setUp(self) -> None:
            heard_in["setUp"] = heard(legacy_event)

        def test_one(self) -> None:
            heard_in["test_one"] = heard(legacy_event)

        def test_two(self) -> None:
            heard_in["test_two"] = heard(legacy_event)

        def tearDown(self) -> None:
            heard_in["tearDown"] = heard(legacy_event)

        @classmethod
        def tearDownClass(cls) -> None:
            heard_in["tearDownClass"] = heard(legacy_event)
            super().tearDownClass()

    result = run_test_case(Tests)

    assert inspect.isclass(Tests)
    assert Tests.__name__ == "Tests"
    assert result.testsRun == 2
    assert heard_in == dict.fromkeys(
        ["setUpClass", "setUp", "test_one", "test_two", "tearDown", "tearDownClass"],
        False,
    )
    assert heard(legacy_event)


def test_mute_on_a_test_case_class_without_hooks_of_its_own() -> None:
    heard_in_test: list[bool] = []

    @mute("testapp.signals.legacy_event")
    class Tests(unittest.TestCase):
        def test_send(self) -> None:
            heard_in_test.append(heard(legacy_event))

    run_test_case(Tests)

    assert heard_in_test == [False]
    assert heard(legacy_event)


def test_mute_on_a_test_case_class_ends_when_set_up_raises() -> None:
    @mute(legacy_event)
    class Tests(unittest.TestCase):
        def setUp(self) -> None:
            raise RuntimeError("boom")

        def test_never_runs(self) -> None:
            raise AssertionError("setUp failed")

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Tests).run(result)

    assert "RuntimeError: boom" in result.errors[0][1]
    assert heard(legacy_event)


def test_mute_on_a_test_case_class_reaches_its_subclasses() -> None:
    heard_in_test: list[bool] = []

    @mute(legacy_event)
    class Base(unittest.TestCase):
        pass

    class Tests(Base):
        def test_send(self) -> None:
            heard_in_test.append(heard(legacy_event))

    run_test_case(Tests)

    assert heard_in_test == [False]


# What each post's factory heard: "create" in _create, "generation" after it.
factory_heard: list[tuple[str, bool]] = []


class PostFactory(Factory[Post]):
    class Meta:
        model = Post

    title = "Hello"

    @post_generation  # type: ignore[untyped-decorator]
    def published(obj: Post, create: bool, extracted: Any, **kwargs: Any) -> None:
        factory_heard.append(("generation", heard(legacy_event)))


def test_mute_decorates_a_factory_boy_factory() -> None:
    @mute(legacy_event)
    class QuietPostFactory(PostFactory):
        @classmethod
        def _create(cls, model_class: type[Post], **kwargs: Any) -> Post:
            factory_heard.append(("create", heard(legacy_event)))
            return model_class(**kwargs)

    factory_heard.clear()
    built = QuietPostFactory.build()
    created = QuietPostFactory.create()

    assert isinstance(QuietPostFactory, FactoryMetaClass)
    assert (built.title, created.title) == ("Hello", "Hello")
    assert factory_heard == [
        ("generation", False),
        ("create", False),
        ("generation", False),
    ]
    assert heard(legacy_event)
    PostFactory.build()
    assert factory_heard[-1] == ("generation", True)


class Helper:
    def __init__(self) -> None:
        self.sent = False


@pytest.mark.parametrize(
    ("decorated", "message"),
    [
        (
            Helper,
            "@mute(...) decorates functions, coroutine functions, "
            "unittest.TestCase classes and factory_boy factories, not the class "
            f"{__name__}.Helper. For a pytest test class, use "
            "@pytest.mark.mute_signals(...); elsewhere, use 'with mute(...):' in "
            "the methods to mute.",
        ),
        (
            42,
            "@mute(...) decorates functions, coroutine functions, "
            "unittest.TestCase classes and factory_boy factories, not int 42.",
        ),
        (
            "testapp.signals.legacy_event",
            "@mute(...) decorates functions, coroutine functions, "
            "unittest.TestCase classes and factory_boy factories, not str "
            "'testapp.signals.legacy_event'.",
        ),
    ],
)
def test_mute_refuses_to_decorate_anything_else(decorated: Any, message: str) -> None:
    with pytest.raises(TypeError) as raised:
        mute(legacy_event)(decorated)

    assert str(raised.value) == message


def test_mute_refuses_generator_functions() -> None:
    def numbers() -> Iterator[int]:
        yield 1

    async def async_numbers() -> AsyncIterator[int]:
        yield 1

    for generator in (numbers, async_numbers):
        with pytest.raises(TypeError) as raised:
            mute(legacy_event)(generator)
        assert str(raised.value) == (
            f"@mute(...) cannot decorate the generator function "
            f"{__name__}.test_mute_refuses_generator_functions.<locals>."
            f"{generator.__name__}: its body runs after the call returns. "
            f"Use 'with mute(...):' inside it."
        )


def test_mute_decorates_a_callable_object(connect: Connect) -> None:
    calls = calls_of(legacy_event, connect)
    send = functools.partial(legacy_event.send, sender=None)

    mute(legacy_event)(send)()

    assert calls == []


def test_mute_in_one_asyncio_task_does_not_mute_another(connect: Connect) -> None:
    heard_by: list[str] = []
    # asend() runs receivers in tasks of their own, which copy this variable.
    task_name: ContextVar[str] = ContextVar("task_name")

    async def remember_task(sender: Any, **kwargs: Any) -> None:
        heard_by.append(task_name.get())

    connect(legacy_event, remember_task)

    async def main() -> None:
        muted_entered = asyncio.Event()
        other_sent = asyncio.Event()

        async def muted_task() -> None:
            task_name.set("muted")
            with mute(legacy_event):
                muted_entered.set()
                # The other task sends while this one is inside the block.
                await other_sent.wait()
                await legacy_event.asend(sender=None)

        async def other_task() -> None:
            task_name.set("other")
            await muted_entered.wait()
            await legacy_event.asend(sender=None)
            other_sent.set()

        await asyncio.gather(
            asyncio.create_task(muted_task()),
            asyncio.create_task(other_task()),
        )

    asyncio.run(main())

    assert heard_by == ["other"]


@pytest.mark.django_db(transaction=True)
def test_mute_post_save_in_one_thread_does_not_affect_another_thread(
    connect: Connect,
) -> None:
    saved_titles: list[str] = []

    def remember_title(sender: Any, instance: Post, **kwargs: Any) -> None:
        saved_titles.append(instance.title)

    connect(post_save, remember_title, sender=Post)
    failures: list[BaseException] = []

    def save_in_another_thread() -> None:
        try:
            Post.objects.create(title="from the other thread")
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connections.close_all()

    with mute(post_save):
        Post.objects.create(title="muted")
        # The other thread saves while this thread is still muted.
        thread = threading.Thread(target=save_in_another_thread)
        thread.start()
        thread.join()

    assert failures == []
    assert saved_titles == ["from the other thread"]
    assert Post.objects.count() == 2


def test_muted_sends_are_captured_as_muted(connect: Connect) -> None:
    calls_of(legacy_event, connect)

    with capture(legacy_event) as signals, mute(legacy_event):
        legacy_event.send(sender=None)

    (send,) = signals.sends
    assert send.muted
    assert send.receivers == []
    assert send.muted_receivers == [f"{__name__}.calls_of.<locals>.log"]
    signals.assert_sent(legacy_event, times=1)


def test_muted_sends_are_marked_in_failure_messages(connect: Connect) -> None:
    calls_of(legacy_event, connect)

    with capture(legacy_event) as signals, mute(legacy_event):
        legacy_event.send(sender=None)

    with pytest.raises(AssertionError, match=re.escape("(sender=None) [muted]")):
        signals.assert_not_sent(legacy_event)
