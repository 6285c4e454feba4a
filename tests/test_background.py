"""Background receivers, in-process: what a send enqueues and what a worker runs.

The default Tasks backend of the test settings is the dummy one (it keeps
what was enqueued); the ``immediate`` backend runs each task at once, as a
worker would. tests/test_tasks_worker.py runs a real worker.
"""

from __future__ import annotations

import functools
import logging
import sys
import types
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

import signalkit
import tasks_receivers
from signalkit import Signal, background, registry
from signalkit.background import (
    BackgroundArgumentError,
    BackgroundReceiver,
    BackgroundReceiverError,
    Enqueued,
    EnqueuedOnCommit,
    backend_problems,
    connect_background,
)
from signalkit.checks import (
    check_background_receivers,
    check_receiver_signatures,
    check_settings,
)
from signalkit.models import OutboxMessage
from signalkit.outbox import relay
from signalkit.receivers import receiver_infos
from signalkit.task_payload import encode, run_in_worker
from signalkit.tasks_framework import tasks_framework
from tasks_receivers import post_published
from testapp.models import Comment, Post

RUN_AT_ONCE = override_settings(SIGNALKIT_TASKS_BACKEND="immediate")
DummyBackend = type(tasks_framework().task_backends["default"])


@pytest.fixture
def queue() -> Iterator[Any]:
    """The dummy backend's list of enqueued tasks, empty at the start."""
    backend = tasks_framework().task_backends["default"]
    backend.clear()
    yield backend.results
    backend.clear()


@pytest.fixture
def calls() -> Iterator[list[dict[str, Any]]]:
    """The calls the receivers of tasks_receivers made, as a worker ran them."""
    tasks_receivers.calls.clear()
    yield tasks_receivers.calls
    tasks_receivers.calls.clear()


@pytest.fixture
def scratch_signal() -> Iterator[Signal]:
    """A declared signal that exists for one test only."""
    signal = Signal(name="signalkit_tests.scratch", args=["post"])
    yield signal
    registry.unregister(signal)


def proxy_of(signal: DjangoSignal, name: str) -> BackgroundReceiver:
    [proxy] = [
        info.receiver
        for info in receiver_infos(signal)
        if isinstance(info.receiver, BackgroundReceiver) and info.name == name
    ]
    return proxy


def module_level(name: str, module: str = "tasks_receivers") -> Any:
    """A function that claims to live at ``module.name``, as if defined there."""

    def impostor(sender: Any, **kwargs: Any) -> None:
        pass

    impostor.__module__, impostor.__name__, impostor.__qualname__ = module, name, name
    return impostor


def rude_receiver(sender: Any, post: Any) -> None:
    """Module-level, but takes no **kwargs."""


# Connecting


def test_background_receiver_is_connected_under_its_own_name() -> None:
    proxy = proxy_of(post_published, "tasks_receivers.notify_followers")

    assert proxy.func is tasks_receivers.notify_followers
    assert proxy.path == "tasks_receivers.notify_followers"
    assert repr(proxy) == "<BackgroundReceiver tasks_receivers.notify_followers>"


def test_task_options_of_the_decorator_are_kept() -> None:
    proxy = proxy_of(post_published, "tasks_receivers.audit_publication")

    assert (proxy.queue, proxy.priority, proxy.backend_alias) == ("audit", 5, "default")


def test_connecting_the_same_function_again_does_not_connect_it_twice() -> None:
    # As when a worker imports the receiver's module once more.
    connect_background(post_published, tasks_receivers.notify_followers)

    names = [info.name for info in receiver_infos(post_published)]
    assert names.count("tasks_receivers.notify_followers") == 1


def test_connecting_again_keeps_the_connected_proxy_and_lists_it_once() -> None:
    first = proxy_of(post_published, "tasks_receivers.notify_followers")

    again = connect_background(post_published, tasks_receivers.notify_followers)

    assert again is first
    # Of this signal: in some random orders of the whole suite another
    # post_published has a notify_followers proxy of its own.
    paths = [
        proxy.path
        for proxy in background.background_receivers()
        if proxy.signal is post_published
    ]
    assert paths.count("tasks_receivers.notify_followers") == 1


class Notifier:
    def notify(self, sender: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


def _nested() -> Any:
    def inner(sender: Any, **kwargs: Any) -> None:
        pass

    return inner


@pytest.mark.parametrize(
    ("func", "problem"),
    [
        (lambda sender, **kwargs: None, "a lambda"),
        (_nested(), "defined inside another function"),
        (Notifier().notify, "a bound method"),
        (functools.partial(rude_receiver, post=None), "functools.partial"),
        (Notifier(), "only functions"),
    ],
    ids=["lambda", "nested", "bound-method", "partial", "callable-object"],
)
def test_receiver_a_worker_cannot_import_is_refused_at_connect(
    scratch_signal: Signal, func: Any, problem: str
) -> None:
    with pytest.raises(BackgroundReceiverError, match=problem) as caught:
        signalkit.receiver(scratch_signal, background=True)(func)

    assert "cannot run in the background" in str(caught.value)
    assert scratch_signal.receivers == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"queue": "audit"}, "unknown task options queue"),
        ({"queue_name": ""}, "queue_name must be a non-empty string"),
        ({"backend": 3}, "backend must be a non-empty string"),
        ({"priority": "high"}, "priority must be an integer"),
        ({"priority": True}, "priority must be an integer"),
    ],
)
def test_bad_task_options_are_refused_at_connect(
    scratch_signal: Signal, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(BackgroundReceiverError, match=message) as caught:
        connect_background(scratch_signal, rude_receiver, **options)

    assert f"{rude_receiver.__module__}.rude_receiver" in str(caught.value)
    assert scratch_signal.receivers == []


def test_task_options_without_background_are_refused(scratch_signal: Signal) -> None:
    with pytest.raises(TypeError, match="task options 'queue_name' without"):
        signalkit.receiver(scratch_signal, queue_name="audit")


def test_one_background_receiver_can_serve_several_signals(
    scratch_signal: Signal, queue: list[Any]
) -> None:
    other = Signal(name="signalkit_tests.other", args=["post"])
    try:
        signalkit.receiver([scratch_signal, other], background=True)(
            tasks_receivers.remember
        )
        scratch_signal.send(sender=None, post=1)
        other.send(sender=None, post=2)
    finally:
        registry.unregister(other)

    assert [task.kwargs["signal"] for task in queue] == [
        "signalkit_tests.scratch",
        "signalkit_tests.other",
    ]


# Sending


@pytest.mark.django_db(transaction=True)
def test_send_enqueues_one_task_per_background_receiver(
    queue: list[Any], calls: list[dict[str, Any]]
) -> None:
    post = Post.objects.create(title="Hello")

    responses = post_published.send(sender=Post, post=post, note="first")

    results = [result for _, result in responses]
    assert all(isinstance(result, Enqueued) for result in results)
    assert [result.task_id for result in results] == [task.id for task in queue]
    assert calls == []  # Nothing ran in-process.
    notify, audit = (task.kwargs for task in queue)
    # Each delivery carries a key of its own, the receiver's idempotency key.
    assert len({notify.pop("key"), audit.pop("key")}) == 2
    assert notify == {
        "receiver": "tasks_receivers.notify_followers",
        "signal": "tasks_receivers.post_published",
        "sender": ["model", "testapp.Post"],
        "arguments": {
            "post": ["model", "testapp.Post", post.pk],
            "note": ["json", "first"],
        },
    }
    assert audit["receiver"] == "tasks_receivers.audit_publication"
    assert [(task.task.queue_name, task.task.priority) for task in queue] == [
        ("default", 0),
        ("audit", 5),
    ]


@override_settings(SIGNALKIT_TASKS_QUEUE_NAME="audit")
def test_queue_setting_applies_at_each_send(queue: list[Any]) -> None:
    [(_, enqueued)] = tasks_receivers.something_happened.send(sender=None)

    assert repr(enqueued) == f"<Enqueued task {queue[0].id}>"
    assert queue[0].task.queue_name == "audit"


def test_unrelated_setting_change_keeps_the_prepared_tasks(queue: list[Any]) -> None:
    tasks_receivers.something_happened.send(sender=None)
    prepared = dict(background._tasks)

    with override_settings(SIGNALKIT_VALIDATE_ARGS=True):
        assert background._tasks == prepared


@pytest.mark.django_db
def test_send_inside_a_transaction_enqueues_when_it_commits(
    queue: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    post = Post.objects.create(title="Hello")

    with django_capture_on_commit_callbacks(execute=True):
        responses = post_published.send(sender=Post, post=post)
        assert queue == []

    assert all(isinstance(result, EnqueuedOnCommit) for _, result in responses)
    assert len(queue) == 2


class Abort(Exception):
    pass


def publish_then_abort() -> None:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        post_published.send(sender=Post, post=post)
        raise Abort


@pytest.mark.django_db(transaction=True)
def test_send_in_a_rolled_back_transaction_enqueues_nothing(queue: list[Any]) -> None:
    with pytest.raises(Abort):
        publish_then_abort()

    assert queue == []


class BrokerDown(DummyBackend):  # type: ignore[misc,valid-type]
    """The dummy backend, failing every enqueue as a backend whose broker is down."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise ConnectionError("the broker is down")


@pytest.mark.django_db(transaction=True)
@override_settings(
    TASKS={
        **settings.TASKS,
        "down": {"BACKEND": f"{__name__}.BrokerDown", "QUEUES": ["default", "audit"]},
    },
    SIGNALKIT_TASKS_BACKEND="down",
    SIGNALKIT_OUTBOX=False,
)
def test_without_the_outbox_a_failing_enqueue_is_logged_and_later_callbacks_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    later: list[str] = []

    with (
        caplog.at_level(logging.ERROR, logger="django.db.backends.base"),
        transaction.atomic(),
    ):
        post = Post.objects.create(title="Hello")
        post_published.send(sender=Post, post=post)
        transaction.on_commit(lambda: later.append("ran"))

    assert later == ["ran"]
    assert sorted(
        record.getMessage().split(" in on_commit")[0] for record in caplog.records
    ) == [
        "Error calling enqueue of background receiver tasks_receivers.audit_publication",
        "Error calling enqueue of background receiver tasks_receivers.notify_followers",
    ]
    assert {
        str(record.exc_info[1]) for record in caplog.records if record.exc_info
    } == {"the broker is down"}


@pytest.mark.django_db
@override_settings(SIGNALKIT_TASKS_BACKEND="missing")
def test_unconfigured_backend_raises_at_the_send_even_inside_a_transaction() -> None:
    post = Post.objects.create(title="Hello")

    with pytest.raises(ImproperlyConfigured, match="missing"), transaction.atomic():
        post_published.send(sender=Post, post=post)


# The transactional outbox: django-tasks-db's queue in the sending database

ON_THE_DATABASE_QUEUE = override_settings(SIGNALKIT_TASKS_BACKEND="database")


def queued_ids() -> set[str]:
    return {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}


@ON_THE_DATABASE_QUEUE
@pytest.mark.django_db
def test_send_inside_a_transaction_writes_the_tasks_into_it() -> None:
    post = Post.objects.create(title="Hello")

    with transaction.atomic():
        responses = post_published.send(sender=Post, post=post)
        written = queued_ids()

    assert all(isinstance(result, Enqueued) for _, result in responses)
    assert written == {result.task_id for _, result in responses}
    assert sorted(DBTaskResult.objects.values_list("queue_name", flat=True)) == [
        "audit",
        "default",
    ]


@ON_THE_DATABASE_QUEUE
@pytest.mark.django_db(transaction=True)
def test_rollback_takes_the_written_tasks_with_it() -> None:
    with pytest.raises(Abort):
        publish_then_abort()

    assert queued_ids() == set()


@ON_THE_DATABASE_QUEUE
@pytest.mark.django_db(transaction=True)
def test_rolled_back_savepoint_leaves_no_task_when_the_outer_transaction_commits() -> (
    None
):
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        try:
            with transaction.atomic():
                post_published.send(sender=Post, post=post)
                raise Abort
        except Abort:
            pass
        kept = post_published.send(sender=Post, post=post, note="kept")

    assert queued_ids() == {result.task_id for _, result in kept}


@ON_THE_DATABASE_QUEUE
@pytest.mark.django_db(transaction=True)
def test_earlier_on_commit_callback_that_raises_does_not_lose_the_tasks() -> None:
    def fail() -> None:
        raise Abort

    sent: list[tuple[Any, Any]] = []

    def publish() -> None:
        with transaction.atomic():
            post = Post.objects.create(title="Hello")
            transaction.on_commit(fail)
            sent.extend(post_published.send(sender=Post, post=post))

    with pytest.raises(Abort):
        publish()

    assert Post.objects.count() == 1
    assert queued_ids() == {result.task_id for _, result in sent}


@pytest.mark.django_db(transaction=True)
def test_earlier_on_commit_callback_that_raises_leaves_the_enqueue_to_the_relay(
    queue: list[Any],
) -> None:
    # The dummy backend keeps its queue in memory: the send writes outbox
    # rows, committed with the data; Django runs no callback after the one
    # that raised, so the relay forwards them. No callback is moved.
    ran: list[str] = []

    def fail() -> None:
        ran.append("fail")
        raise Abort

    def publish() -> None:
        with transaction.atomic():
            post = Post.objects.create(title="Hello")
            transaction.on_commit(fail)
            post_published.send(sender=Post, post=post)
            transaction.on_commit(lambda: ran.append("after"))

    with pytest.raises(Abort):
        publish()
    assert queue == []
    # The sender's hold on its rows (SIGNALKIT_OUTBOX_CLAIM_TIMEOUT) is over.
    OutboxMessage.objects.update(claimed_until=None)

    report = relay()

    assert Post.objects.count() == 1
    assert ran == ["fail"]
    assert report.forwarded == 2
    assert sorted(result.kwargs["receiver"] for result in queue) == [
        "tasks_receivers.audit_publication",
        "tasks_receivers.notify_followers",
    ]
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_commit_enqueues_keep_their_order_and_savepoints(
    queue: list[Any],
) -> None:
    with transaction.atomic():
        transaction.on_commit(lambda: None)
        post = Post.objects.create(title="Kept")
        post_published.send(sender=Post, post=post, note="first")
        try:
            with transaction.atomic():
                post_published.send(sender=Post, post=post, note="dropped")
                raise Abort
        except Abort:
            pass
        post_published.send(sender=Post, post=post, note="second")

    assert [
        (result.kwargs["receiver"], result.kwargs["arguments"]["note"])
        for result in queue
    ] == [
        ("tasks_receivers.notify_followers", ["json", "first"]),
        ("tasks_receivers.audit_publication", ["json", "first"]),
        ("tasks_receivers.notify_followers", ["json", "second"]),
        ("tasks_receivers.audit_publication", ["json", "second"]),
    ]


class QueueElsewhere:
    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "elsewhere" if model is DBTaskResult else None


@ON_THE_DATABASE_QUEUE
@override_settings(DATABASE_ROUTERS=[QueueElsewhere()])
@pytest.mark.django_db
def test_queue_in_another_database_is_enqueued_on_commit() -> None:
    post = Post.objects.create(title="Hello")

    with transaction.atomic():
        responses = post_published.send(sender=Post, post=post)

    assert all(isinstance(result, EnqueuedOnCommit) for _, result in responses)
    assert queued_ids() == set()


@ON_THE_DATABASE_QUEUE
@pytest.mark.django_db
def test_without_django_tasks_db_the_queue_is_never_in_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "django_tasks_db.backend", None)
    post = Post.objects.create(title="Hello")

    with transaction.atomic():
        responses = post_published.send(sender=Post, post=post)

    assert all(isinstance(result, EnqueuedOnCommit) for _, result in responses)


@pytest.mark.django_db(transaction=True)
def test_recording_shows_a_background_receiver_as_enqueued_with_its_task(
    queue: list[Any],
) -> None:
    post = Post.objects.create(title="Hello")

    with signalkit.record() as recording:
        post_published.send(sender=Post, post=post)

    [send] = [s for s in recording.sends if s.signal_name == post_published.name]
    assert [
        (call.name, call.status, call.result_summary) for call in send.receivers
    ] == [
        ("tasks_receivers.notify_followers", "enqueued", f"task {queue[0].id}"),
        ("tasks_receivers.audit_publication", "enqueued", f"task {queue[1].id}"),
    ]


@pytest.mark.django_db
def test_recording_shows_a_send_inside_a_transaction_as_enqueued_on_commit(
    queue: list[Any],
) -> None:
    post = Post.objects.create(title="Hello")

    with signalkit.record() as recording:
        post_published.send(sender=Post, post=post)

    [send] = [s for s in recording.sends if s.signal_name == post_published.name]
    assert {(call.status, call.result_summary) for call in send.receivers} == {
        ("enqueued", "on commit")
    }
    assert repr(EnqueuedOnCommit("default")) == "<Enqueued on commit>"


@pytest.mark.django_db
def test_argument_that_is_not_json_fails_at_once_naming_everything(
    queue: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    post = Post.objects.create(title="Hello")

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(BackgroundArgumentError) as caught,
    ):
        post_published.send(sender=Post, post=post, note=object())

    assert str(caught.value).startswith(
        "tasks_receivers.post_published cannot send argument 'note' to "
        "background receiver tasks_receivers.notify_followers: object value "
        "(Object of type object is not JSON serializable)."
    )
    assert callbacks == []


@pytest.mark.django_db
def test_unsaved_instance_fails_at_once() -> None:
    with pytest.raises(BackgroundArgumentError, match="has no pk yet"):
        post_published.send(sender=Post, post=Post(title="Draft"))


@pytest.mark.skipif(
    django.VERSION < (6, 0), reason="the toolbar's Tasks panel needs Django 6"
)
def test_enqueued_task_reaches_the_toolbars_tasks_panel(queue: list[Any]) -> None:
    # django-debug-toolbar's TasksPanel lists what django.tasks' task_enqueued
    # reports during the request.
    enqueued: list[Any] = []

    def note(sender: Any, task_result: Any, **kwargs: Any) -> None:
        enqueued.append(task_result)

    task_enqueued = tasks_framework().signals.task_enqueued
    task_enqueued.connect(note)
    try:
        tasks_receivers.something_happened.send(sender=None)
    finally:
        task_enqueued.disconnect(note)

    assert [result.id for result in enqueued] == [queue[0].id]


def test_sender_that_cannot_travel_fails_at_once() -> None:
    with pytest.raises(BackgroundArgumentError, match="argument 'sender'") as caught:
        tasks_receivers.something_happened.send(sender=object())

    assert "<builtins.object object> is neither None, a model" in str(caught.value)


def test_send_of_a_signal_unknown_to_signalkit_fails_at_once() -> None:
    unknown = DjangoSignal()
    connect_background(unknown, rude_receiver)

    with pytest.raises(BackgroundReceiverError, match="not registered with signalkit"):
        unknown.send(sender=None)


@pytest.mark.parametrize(
    ("module", "reason"),
    [("tasks_receivers", "another function"), ("no_such_module", "no module")],
)
def test_receiver_a_worker_would_not_find_fails_at_first_enqueue(
    scratch_signal: Signal, queue: list[Any], module: str, reason: str
) -> None:
    impostor = module_level("notify_followers", module)
    connect_background(scratch_signal, impostor)

    with pytest.raises(BackgroundReceiverError, match="would not find it"):
        scratch_signal.send(sender=None, post=None)

    assert queue == []


def test_sends_about_the_task_queue_itself_are_not_enqueued(queue: list[Any]) -> None:
    # Else a post_save receiver for every sender would feed on its own tasks.
    class TaskRow:
        _meta = types.SimpleNamespace(app_label="django_tasks_database")

    proxy = proxy_of(tasks_receivers.something_happened, "tasks_receivers.remember")

    assert proxy(signal=tasks_receivers.something_happened, sender=TaskRow) is None
    assert queue == []


def test_missing_tasks_framework_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    with pytest.raises(BackgroundReceiverError, match="need the Django Tasks"):
        tasks_framework()


# In the worker


@RUN_AT_ONCE
@pytest.mark.django_db(transaction=True)
def test_worker_calls_the_receiver_with_the_same_arguments(
    calls: list[dict[str, Any]],
) -> None:
    post = Post.objects.create(title="Hello")

    post_published.send(sender=Post, post=post, note="first")

    assert calls == [
        {
            "receiver": "notify_followers",
            "sender": "testapp.Post",
            "post": post.pk,
            "title": "Hello",
            "note": "first",
            "signal": True,
        },
        {"receiver": "audit_publication", "post": post.pk},
    ]


@RUN_AT_ONCE
@pytest.mark.django_db(transaction=True)
def test_background_receiver_of_a_django_signal_gets_the_saved_instance(
    calls: list[dict[str, Any]],
) -> None:
    post = Post.objects.create(title="Hello")
    comment = Comment.objects.create(post=post, body="Nice")
    comment.body = "Nicer"
    comment.save(update_fields={"body"})

    assert [
        (c["comment"], c["body"], c["created"], c["update_fields"]) for c in calls
    ] == [
        (comment.pk, "Nice", True, []),
        (comment.pk, "Nicer", False, ["body"]),
    ]


@pytest.mark.django_db
def test_instance_deleted_before_the_worker_runs_is_skipped_and_logged(
    calls: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    post = Post.objects.create(title="Soon gone")
    proxy = proxy_of(post_published, "tasks_receivers.notify_followers")
    payload = encode(proxy.path, post_published, Post, {"post": post})
    post.delete()

    with caplog.at_level(logging.WARNING, logger="signalkit.tasks"):
        outcome = run_in_worker(**payload)

    reason = (
        "tasks_receivers.post_published -> tasks_receivers.notify_followers "
        f"skipped: argument 'post': testapp.Post with pk {payload['arguments']['post'][2]!r} "
        "no longer exists"
    )
    assert outcome == {"skipped": reason}
    assert caplog.messages == [f"Background receiver {reason}"]
    assert calls == []


@RUN_AT_ONCE
@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (None, None),
        (Post, Post),
        (tasks_receivers.label, tasks_receivers.label),
        (OrderedDict, OrderedDict),
        ("a string", "a string"),
    ],
    ids=["none", "model", "function", "class", "json"],
)
def test_sender_travels_to_the_worker(
    calls: list[dict[str, Any]], sent: Any, received: Any
) -> None:
    tasks_receivers.something_happened.send(sender=sent)

    assert calls[0]["sender"] == received


@RUN_AT_ONCE
@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (Post, Post),
        (frozenset({1, 2}), frozenset({1, 2})),
        ((1, "two"), [1, "two"]),
        ({"nested": [1.5, None, True]}, {"nested": [1.5, None, True]}),
    ],
    ids=["model-class", "set", "tuple", "dict"],
)
def test_value_travels_to_the_worker(
    calls: list[dict[str, Any]], sent: Any, received: Any
) -> None:
    tasks_receivers.something_happened.send(sender=None, value=sent)

    assert calls[0]["value"] == received


@RUN_AT_ONCE
def test_async_background_receiver_runs_in_the_worker(
    calls: list[dict[str, Any]],
) -> None:
    tasks_receivers.happened_later.send(sender=None, value=42)

    assert calls == [{"receiver": "remember_later", "sender": None, "value": 42}]


# Checks


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ("SIGNALKIT_TASKS_BACKEND", "signalkit.E010"),
        ("SIGNALKIT_TASKS_QUEUE_NAME", "signalkit.E011"),
    ],
)
@pytest.mark.parametrize("value", ["", 5, None])
def test_bad_tasks_setting_is_reported(setting: str, check_id: str, value: Any) -> None:
    with override_settings(**{setting: value}):
        errors = check_settings()
        background_errors = check_background_receivers()

    assert [(error.id, error.msg.split(" must")[0]) for error in errors] == [
        (check_id, setting)
    ]
    assert background_errors == []  # Reported once, by the settings check.


def test_background_receivers_pass_the_checks_when_the_backend_is_configured() -> None:
    assert check_background_receivers() == []


@override_settings(SIGNALKIT_TASKS_BACKEND="nowhere")
def test_unconfigured_backend_is_reported_for_each_background_receiver() -> None:
    errors = check_background_receivers()

    assert {error.id for error in errors} == {"signalkit.E012"}
    assert any(
        error.msg.startswith(
            "Background receiver tasks_receivers.notify_followers cannot be "
            "enqueued: its Tasks backend 'nowhere' is not usable: "
        )
        for error in errors
    )


def test_queue_missing_from_the_backend_is_reported() -> None:
    only_default = {"default": {"BACKEND": settings.TASKS["default"]["BACKEND"]}}
    with override_settings(TASKS=only_default):
        errors = check_background_receivers()

    assert [error.msg for error in errors] == [
        "Background receiver tasks_receivers.audit_publication cannot be enqueued: "
        "queue 'audit' is not among the QUEUES of Tasks backend 'default' (default).",
        "Background receiver tasks_receivers.audit_share cannot be enqueued: "
        "queue 'audit' is not among the QUEUES of Tasks backend 'default' (default).",
    ]


class BackendWithoutPriorities(DummyBackend):  # type: ignore[misc,valid-type]
    """The dummy backend, refusing priorities as RQ's backend does."""

    supports_priority = False


def test_priority_on_a_backend_without_priorities_is_reported() -> None:
    backend = f"{__name__}.BackendWithoutPriorities"
    no_priorities = {"default": {"BACKEND": backend, "QUEUES": ["default", "audit"]}}
    with override_settings(TASKS=no_priorities):
        errors = check_background_receivers()

    assert [error.msg for error in errors] == [
        "Background receiver tasks_receivers.audit_publication cannot be enqueued: "
        "priority=5 is set, but Tasks backend 'default' (BackendWithoutPriorities) "
        "does not support priorities."
    ]


def test_missing_tasks_framework_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    errors = check_background_receivers()

    assert errors
    assert all("need the Django Tasks framework" in error.msg for error in errors)


def test_no_background_receivers_means_no_backend_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "_ahead", weakref.WeakKeyDictionary())
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    assert backend_problems() == []


def test_signature_check_covers_background_receivers(scratch_signal: Signal) -> None:
    connect_background(scratch_signal, rude_receiver)

    [warning] = [
        w for w in check_receiver_signatures() if "signalkit_tests.scratch" in w.msg
    ]

    assert warning.id == "signalkit.W001"
    assert warning.msg.startswith(
        f"Receiver {rude_receiver.__module__}.rude_receiver connected to "
        f"signalkit_tests.scratch"
    )
