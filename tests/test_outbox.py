"""The outbox, in-process: rows written in the transaction, forwarded after
COMMIT, relayed when left; and the fixes that came with it (Django's
on-commit test helpers, sends that fail before any receiver runs, delete
signals, exclude=).

The dummy Tasks backend (the test settings' default) keeps its queue in
memory, so it stands for a broker outside the database.
tests/test_tasks_redis.py runs the same with real redis-server and workers.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.sites import AdminSite, site
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from django.test import RequestFactory, override_settings
from django.utils import timezone

import tasks_receivers
import test_background
from signalkit import admin as outbox_admin
from signalkit import outbox
from signalkit.admin import DeadLetterFilter, OutboxMessageAdmin
from signalkit.background import (
    BackgroundArgumentError,
    BackgroundReceiver,
    BackgroundReceiverError,
    EnqueuedOnCommit,
    connect_background,
)
from signalkit.checks import check_background_runs_in_process, check_settings
from signalkit.models import OutboxMessage
from signalkit.outbox import dead_letters, relay, retry_dead_letters
from signalkit.receivers import receiver_infos
from signalkit.task_payload import idempotency_key, run_in_worker
from signalkit.tasks_framework import tasks_framework
from tasks_receivers import post_published
from testapp.models import Post

DummyBackend = type(tasks_framework().task_backends["default"])
RUN_AT_ONCE = override_settings(SIGNALKIT_TASKS_BACKEND="immediate")


# The dummy backend's queue and the receivers' calls, as in test_background.
queue = test_background.queue
calls = test_background.calls


@pytest.fixture(autouse=True)
def no_paused_backends() -> Iterator[None]:
    """A backend that failed in one test is not skipped in the next."""
    outbox._paused_until.clear()
    yield
    outbox._paused_until.clear()
    outbox._hanging.clear()


def enqueued() -> list[Any]:
    """What the dummy backend holds now (override_settings(TASKS=...) makes
    new backend objects, so a list taken before may be stale)."""
    return list(tasks_framework().task_backends["default"].results)


def enqueued_on(alias: str) -> list[Any]:
    return list(tasks_framework().task_backends[alias].results)


def release_senders_claims() -> None:
    """As if SIGNALKIT_OUTBOX_CLAIM_TIMEOUT had passed since the sends."""
    OutboxMessage.objects.update(claimed_until=None)


class Abort(Exception):
    pass


# Django's on-commit test helpers see exactly the enqueue (defect 1)


@pytest.mark.django_db
def test_capture_on_commit_callbacks_captures_and_runs_the_enqueue_not_an_earlier_callback(
    queue: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    earlier: list[str] = []
    transaction.on_commit(lambda: earlier.append("ran"))
    post = Post.objects.create(title="Hello")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post_published.send(sender=Post, post=post)

    assert earlier == []
    assert [callback.__qualname__ for callback in callbacks] == [
        "forward of background receiver tasks_receivers.notify_followers",
        "forward of background receiver tasks_receivers.audit_publication",
    ]
    assert sorted(task.kwargs["receiver"] for task in queue) == [
        "tasks_receivers.audit_publication",
        "tasks_receivers.notify_followers",
    ]
    assert OutboxMessage.objects.count() == 0  # forwarded, then deleted


@pytest.mark.django_db
def test_django_test_case_helper_sees_the_enqueue_too(queue: list[Any]) -> None:
    from django.test import TestCase

    transaction.on_commit(lambda: None)
    post = Post.objects.create(title="Hello")

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        post_published.send(sender=Post, post=post, note="captured")

    assert len(callbacks) == 2
    assert {task.kwargs["arguments"]["note"][1] for task in queue} == {"captured"}


# The outbox row


@pytest.mark.django_db(transaction=True)
def test_send_in_a_transaction_writes_rows_that_commit_with_the_data(
    queue: list[Any],
) -> None:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        responses = post_published.send(sender=Post, post=post)
        rows = list(OutboxMessage.objects.order_by("receiver"))

    keys = [result.key for _, result in responses]
    assert all(isinstance(result, EnqueuedOnCommit) for _, result in responses)
    assert sorted(str(row.pk) for row in rows) == sorted(keys)
    assert [
        (row.receiver, row.backend, row.queue_name, row.priority) for row in rows
    ] == [
        ("tasks_receivers.audit_publication", "default", "audit", 5),
        ("tasks_receivers.notify_followers", "default", "default", 0),
    ]
    # After COMMIT: forwarded with the row id as the key, and deleted.
    assert sorted(task.kwargs["key"] for task in queue) == sorted(keys)
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rollback_leaves_no_row_and_enqueues_nothing(queue: list[Any]) -> None:
    def publish_then_abort() -> None:
        with transaction.atomic():
            post = Post.objects.create(title="Hello")
            post_published.send(sender=Post, post=post)
            raise Abort

    with pytest.raises(Abort):
        publish_then_abort()

    assert OutboxMessage.objects.count() == 0
    assert relay().forwarded == 0
    assert queue == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_enqueue_stays_direct(queue: list[Any]) -> None:
    post = Post.objects.create(title="Hello")

    post_published.send(sender=Post, post=post)

    assert len(queue) == 2
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@override_settings(SIGNALKIT_OUTBOX=False)
def test_opting_out_enqueues_on_commit_without_a_row(queue: list[Any]) -> None:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        responses = post_published.send(sender=Post, post=post)
        assert OutboxMessage.objects.count() == 0

    assert sorted(task.kwargs["key"] for task in queue) == sorted(
        result.key for _, result in responses
    )


@pytest.mark.django_db(transaction=True)
@RUN_AT_ONCE
def test_immediate_backend_runs_on_commit_without_a_row(
    calls: list[dict[str, Any]],
) -> None:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        tasks_receivers.post_shared.send(sender=Post, post=post)
        assert OutboxMessage.objects.count() == 0
        assert calls == []

    assert sorted(call["receiver"] for call in calls) == ["audit_share", "share_post"]


class BrokerDown(DummyBackend):  # type: ignore[misc,valid-type]
    """The dummy backend while its broker is down."""

    attempts = 0

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        type(self).attempts += 1
        raise ConnectionError("the broker is down")


class BrokerHangs(DummyBackend):  # type: ignore[misc,valid-type]
    """The dummy backend while its broker does not answer (until released)."""

    release = threading.Event()
    outcome = "failed late"

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.release.wait(60)
        if self.outcome == "failed late":
            raise ConnectionError("gave up")
        return super().enqueue(task, args, kwargs)


FLAKY_TASKS = {
    **settings.TASKS,
    "down": {"BACKEND": f"{__name__}.BrokerDown", "QUEUES": ["default", "audit"]},
    "hangs": {"BACKEND": f"{__name__}.BrokerHangs", "QUEUES": ["default", "audit"]},
}


def commit_a_send() -> Post:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        tasks_receivers.post_shared.send(sender=Post, post=post, note="outage")
    return post


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_commit_leaves_the_rows_to_the_relay_which_forwards_them(
    queue: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    BrokerDown.attempts = 0
    with (
        override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"),
        caplog.at_level(logging.WARNING, logger="signalkit.outbox"),
    ):
        commit_a_send()
        # Within BACKEND_PAUSE, later forwards to "down" are not even tried.
        commit_a_send()
    rows = list(OutboxMessage.objects.all())

    assert BrokerDown.attempts == 1
    assert len(rows) == 4
    assert sorted((row.attempts, row.last_error) for row in rows) == [
        (0, "not tried: the backend failed moments ago"),
        (0, "not tried: the backend failed moments ago"),
        (0, "not tried: the backend failed moments ago"),
        (1, "ConnectionError: the broker is down"),
    ]
    assert [record.getMessage() for record in caplog.records] == [
        f"Background receiver {rows_by_attempts(rows)[0].receiver}: Tasks backend "
        f"'down' did not take the task (ConnectionError: the broker is down); "
        f"outbox row {rows_by_attempts(rows)[0].pk} is left to manage.py "
        f"signalkit_relay."
    ]

    # The broker is back: the same rows now go to a backend that works.
    OutboxMessage.objects.update(backend="default")
    report = relay()

    assert (report.forwarded, report.failed) == (4, 0)
    assert sorted(task.kwargs["key"] for task in enqueued()) == sorted(
        str(row.pk) for row in rows
    )
    assert OutboxMessage.objects.count() == 0


def rows_by_attempts(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    return sorted(rows, key=lambda row: -row.attempts)


def wait_for_late_enqueues() -> None:
    for _ in range(600):
        if not any(outbox._hanging.values()):
            return
        time.sleep(0.05)
    raise AssertionError("an enqueue past its timeout never finished")


@pytest.mark.django_db(transaction=True)
@override_settings(
    TASKS=FLAKY_TASKS,
    SIGNALKIT_TASKS_BACKEND="hangs",
    SIGNALKIT_OUTBOX_FORWARD_TIMEOUT=0.05,
)
@pytest.mark.parametrize("outcome", ["taken late", "failed late"])
def test_broker_that_does_not_answer_costs_the_commit_the_forward_timeout_only(
    queue: list[Any], caplog: pytest.LogCaptureFixture, outcome: str
) -> None:
    BrokerHangs.release.clear()
    BrokerHangs.outcome = outcome
    try:
        # Returns although the backend has not answered (it would wait 60 s).
        with caplog.at_level(logging.WARNING, logger="signalkit.outbox"):
            commit_a_send()
        meanwhile = sorted(OutboxMessage.objects.values_list("last_error", flat=True))
    finally:
        BrokerHangs.release.set()
    wait_for_late_enqueues()

    # The first forward waits 0.05 s, the second not at all; both rows wait.
    assert meanwhile == ["", ""]
    assert caplog.records[0].getMessage().split(" within")[0] == (
        "Background receiver tasks_receivers.share_post: Tasks backend 'hangs' "
        "did not answer"
    )
    assert not any("did not answer" in r.getMessage() for r in caplog.records[1:])
    rows = sorted(OutboxMessage.objects.values_list("last_error", flat=True))
    if outcome == "taken late":
        assert rows == []
        assert len(enqueued_on("hangs")) == 2
    else:
        assert rows == ["ConnectionError: gave up", "ConnectionError: gave up"]


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="hangs")
def test_too_many_hanging_enqueues_leave_the_rows_to_the_relay_untried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(outbox._hanging, "hangs", outbox.MAX_HANGING)

    commit_a_send()

    assert sorted(OutboxMessage.objects.values_list("last_error", flat=True)) == [
        "not tried: the backend is not answering",
        "not tried: the backend is not answering",
    ]


# The relay


@pytest.mark.django_db(transaction=True)
def test_relay_leaves_rows_the_sender_still_holds(queue: list[Any]) -> None:
    with override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"):
        commit_a_send()
    OutboxMessage.objects.update(backend="default")
    held = OutboxMessage.objects.filter(attempts=0)

    report = relay()

    # The failed row was released at once; the one not tried stays held
    # ("not tried" released it too): both go.
    assert report.forwarded == 2
    assert not held.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(SIGNALKIT_OUTBOX_CLAIM_TIMEOUT=3600)
def test_relay_does_not_take_a_row_held_by_a_live_sender(queue: list[Any]) -> None:
    with transaction.atomic():
        post = Post.objects.create(title="Hello")
        tasks_receivers.post_shared.send(sender=Post, post=post)
        # Simulate a relay running right after COMMIT, before the forward:
        # it must not take the sender's rows.
        transaction.on_commit(lambda: reports.append(relay()))
        reports: list[outbox.RelayReport] = []
    # on_commit ran in order: the two forwards first, then the relay above.

    assert [report.forwarded for report in reports] == [0]
    assert len(queue) == 2


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_OUTBOX_MAX_ATTEMPTS=2)
def test_rows_that_keep_failing_become_dead_letters_and_can_be_retried(
    queue: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(SIGNALKIT_TASKS_BACKEND="down"):
        commit_a_send()
    release_senders_claims()

    with caplog.at_level(logging.WARNING, logger="signalkit.outbox"):
        first = relay()
        second = relay()
        third = relay()

    assert (first.failed, first.dead) == (2, 1)
    assert (second.failed, second.dead) == (1, 1)
    assert (third.failed, third.forwarded) == (0, 0)
    dead = dead_letters()
    assert [(row.attempts, row.is_dead) for row in dead] == [(2, True), (2, True)]
    assert "it is a dead letter now" in caplog.records[-1].getMessage()
    assert caplog.records[-1].levelno == logging.ERROR

    assert retry_dead_letters() == 2
    OutboxMessage.objects.update(backend="default")
    assert relay().forwarded == 2
    assert len(enqueued()) == 2


@pytest.mark.django_db(transaction=True)
def test_relay_forwards_in_batches_and_stops_at_its_limit(queue: list[Any]) -> None:
    with override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"):
        for _ in range(3):
            commit_a_send()
    OutboxMessage.objects.update(backend="default", claimed_until=None)

    assert relay(batch_size=2, limit=5).forwarded == 5
    assert relay(batch_size=2).forwarded == 1
    assert len(enqueued()) == 6
    with pytest.raises(ValueError, match="batch_size must be at least 1, not 0"):
        relay(batch_size=0)


@pytest.mark.django_db(transaction=True)
def test_relay_command_reports_what_it_did(queue: list[Any]) -> None:
    with override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"):
        commit_a_send()
    OutboxMessage.objects.update(backend="default")
    out = io.StringIO()

    call_command("signalkit_relay", "--batch-size", "1", stdout=out)

    assert out.getvalue() == "forwarded 2, failed 0, dead letters 0\n"
    with pytest.raises(CommandError, match="--database 'nope' is not in DATABASES"):
        call_command("signalkit_relay", "--database", "nope")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("signalkit_relay", "--batch-size", "0")


# What the receiver sees: its idempotency key


@pytest.mark.django_db(transaction=True)
@RUN_AT_ONCE
def test_receiver_reads_its_idempotency_key_the_same_on_every_delivery(
    calls: list[dict[str, Any]],
) -> None:
    post = Post.objects.create(title="Hello")
    arguments = {"post": ["model", "testapp.Post", post.pk]}

    for _ in range(2):  # a repeated delivery of one row
        run_in_worker(
            "tasks_receivers.share_post",
            "tasks_receivers.post_shared",
            None,
            arguments,
            "the-row-id",
        )

    assert [call["key"] for call in calls] == ["the-row-id", "the-row-id"]
    assert idempotency_key() is None  # outside the receiver


# Admin


@pytest.mark.django_db(transaction=True)
def test_admin_lists_dead_letters_and_retries_them() -> None:
    with override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"):
        commit_a_send()
    first = OutboxMessage.objects.order_by("receiver").first()
    assert first is not None
    OutboxMessage.objects.filter(pk=first.pk).update(dead_at=timezone.now())
    model_admin = OutboxMessageAdmin(OutboxMessage, AdminSite())
    request = RequestFactory().get("/admin/signalkit/outboxmessage/")
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]

    def shown(state: str | None) -> list[str]:
        params = {} if state is None else {"state": [state]}
        found = DeadLetterFilter(request, params, OutboxMessage, model_admin)
        assert [value for value, _ in found.lookups(request, model_admin)] == [
            "waiting",
            "dead",
        ]
        rows = found.queryset(request, OutboxMessage.objects.all())
        return sorted(row.receiver for row in rows)

    assert shown("dead") == ["tasks_receivers.audit_share"]
    assert shown("waiting") == ["tasks_receivers.share_post"]
    assert len(shown(None)) == 2
    model_admin.retry(request, OutboxMessage.objects.all())
    assert [str(message) for message in request._messages] == [  # type: ignore[attr-defined]
        "2 outbox rows go to the next relay run."
    ]
    assert not OutboxMessage.objects.filter(dead_at__isnull=False).exists()
    assert not model_admin.has_add_permission(request)
    assert (
        str(first)
        == f"tasks_receivers.audit_share (tasks_receivers.post_shared) {first.pk}"
    )


def test_outbox_is_in_the_admin_when_the_admin_is_installed() -> None:
    try:
        with override_settings(
            INSTALLED_APPS=[*settings.INSTALLED_APPS, "django.contrib.admin"]
        ):
            importlib.reload(outbox_admin)  # as the admin's autodiscovery would
            assert type(site._registry[OutboxMessage]).__name__ == "OutboxMessageAdmin"
        site.unregister(OutboxMessage)
        importlib.reload(outbox_admin)  # without the admin: registers nothing
        assert OutboxMessage not in site._registry
    finally:
        if OutboxMessage in site._registry:
            site.unregister(OutboxMessage)


# A send fails before any receiver runs, or not at all (defect 4)


@pytest.fixture
def request_receivers() -> Iterator[list[str]]:
    """A sync receiver of request_made connected ahead of a background one."""
    ran: list[str] = []

    def sync_receiver(sender: Any, **kwargs: Any) -> None:
        ran.append("sync")

    signal = tasks_receivers.request_made
    signal.connect(sync_receiver, weak=False, dispatch_uid="test-sync")
    connect_background(signal, tasks_receivers.log_path, dispatch_uid="test-bg")
    yield ran
    signal.disconnect(dispatch_uid="test-sync")
    signal.disconnect(dispatch_uid="test-bg")


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_argument_that_cannot_travel_fails_the_send_before_any_receiver_runs(
    request_receivers: list[str], queue: list[Any], method: str
) -> None:
    request = RequestFactory().get("/signup/")

    with pytest.raises(BackgroundArgumentError, match="WSGIRequest value"):
        getattr(tasks_receivers.request_made, method)(
            sender=None, request=request, path="/signup/"
        )

    assert request_receivers == []
    assert queue == []


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_send_fails_before_any_receiver_runs_too(
    request_receivers: list[str], method: str
) -> None:
    send = getattr(tasks_receivers.request_made, method)
    request = RequestFactory().get("/signup/")

    with pytest.raises(BackgroundArgumentError):
        asyncio.run(send(sender=None, request=request, path="/"))

    assert request_receivers == []


def test_a_disconnected_or_other_senders_background_receiver_is_not_encoded_for(
    request_receivers: list[str], queue: list[Any]
) -> None:
    signal = tasks_receivers.request_made
    signal.disconnect(dispatch_uid="test-bg")
    connect_background(signal, tasks_receivers.log_path, sender=Post, dispatch_uid="b")
    try:
        signal.send(sender=None, request=object(), path="/")
    finally:
        signal.disconnect(sender=Post, dispatch_uid="b")

    assert request_receivers == ["sync"]
    assert queue == []


def test_sends_about_the_task_queue_itself_are_not_encoded_ahead(
    queue: list[Any],
) -> None:
    from django_tasks_db.models import DBTaskResult

    # Not JSON, but never enqueued: the queue's own models are left alone.
    tasks_receivers.something_happened.send(sender=DBTaskResult, value=object())

    assert queue == []


@RUN_AT_ONCE
def test_exclude_leaves_the_argument_out_for_the_background_receiver(
    calls: list[dict[str, Any]],
) -> None:
    signal = tasks_receivers.request_made
    connect_background(
        signal, tasks_receivers.log_path, exclude=("request",), dispatch_uid="ex"
    )
    try:
        signal.send(sender=None, request=RequestFactory().get("/"), path="/signup/")
    finally:
        signal.disconnect(dispatch_uid="ex")

    assert calls == [{"receiver": "log_path", "path": "/signup/", "request": False}]


@pytest.mark.parametrize(
    ("exclude", "message"),
    [
        ("request", "exclude must be a tuple of argument names"),
        (("request", ""), "exclude holds ''; each item must be an argument name"),
        (
            ("requests",),
            "exclude names 'requests', which tasks_receivers.request_made does "
            "not send (it sends request, path)",
        ),
    ],
)
def test_bad_exclude_is_refused_at_connect(exclude: Any, message: str) -> None:
    with pytest.raises(
        BackgroundReceiverError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        connect_background(
            tasks_receivers.request_made, tasks_receivers.log_path, exclude=exclude
        )
    assert not tasks_receivers.request_made.has_listeners()


def test_decorator_takes_exclude() -> None:
    from signalkit import receiver

    receiver(tasks_receivers.request_made, background=True, exclude=["request"])(
        tasks_receivers.log_path
    )
    try:
        [info] = receiver_infos(tasks_receivers.request_made)
        assert isinstance(info.receiver, BackgroundReceiver)
        assert info.receiver.exclude == frozenset({"request"})
    finally:
        tasks_receivers.request_made.disconnect(
            dispatch_uid="signalkit.background:tasks_receivers.log_path"
        )


# Delete signals carry the instance as it was (defect 3)


@pytest.fixture(params=[pre_delete, post_delete], ids=["pre_delete", "post_delete"])
def delete_receiver(request: pytest.FixtureRequest) -> Iterator[None]:
    signal = request.param
    connect_background(
        signal, tasks_receivers.forget_post, sender=Post, dispatch_uid="d"
    )
    yield
    signal.disconnect(sender=Post, dispatch_uid="d")


@pytest.mark.django_db(transaction=True)
@RUN_AT_ONCE
def test_background_receiver_of_a_delete_signal_gets_the_instance_as_it_was(
    delete_receiver: None, calls: list[dict[str, Any]]
) -> None:
    post = Post.objects.create(title="Soon gone")
    pk = post.pk

    with transaction.atomic():
        post.delete()

    assert calls == [{"receiver": "forget_post", "post": pk, "title": "Soon gone"}]
    assert not Post.objects.filter(pk=pk).exists()


@pytest.mark.django_db(transaction=True)
def test_delete_signal_snapshot_is_djangos_serialisation(
    delete_receiver: None, queue: list[Any]
) -> None:
    post = Post.objects.create(title="Soon gone")
    pk = post.pk

    post.delete()

    [task] = queue
    assert task.kwargs["arguments"]["instance"] == [
        "snapshot",
        {"model": "testapp.post", "pk": pk, "fields": {"title": "Soon gone"}},
    ]


# manage.py signals --outbox


@pytest.mark.django_db(transaction=True)
def test_signals_command_shows_the_outbox_with_its_dead_letters() -> None:
    def shown() -> str:
        out = io.StringIO()
        call_command(
            "signals", "--signal", "tasks_receivers.post_shared", "--outbox", stdout=out
        )
        return out.getvalue().rpartition(" receivers.\n")[2]

    empty = shown()
    with override_settings(TASKS=FLAKY_TASKS, SIGNALKIT_TASKS_BACKEND="down"):
        commit_a_send()
    waiting = shown()
    OutboxMessage.objects.filter(receiver__endswith="audit_share").update(
        dead_at=timezone.now()
    )

    assert empty == "Outbox (database 'default'):\n  empty\n"
    assert waiting.count("1 waiting, 0 dead letters") == 2
    assert "Dead letters" not in waiting
    assert shown() == (
        "Outbox (database 'default'):\n"
        "  tasks_receivers.audit_share (tasks_receivers.post_shared): 0 waiting, "
        "1 dead letters\n"
        "  tasks_receivers.share_post (tasks_receivers.post_shared): 1 waiting, "
        "0 dead letters\n"
        "  Dead letters are not relayed again: see why in the admin (signalkit > "
        "outbox messages), fix it, then use its Retry action.\n"
    )


# signalkit.W011: background receivers that would run in the request


@pytest.fixture
def outside_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in manage.py check: Django's test set-up has not run."""
    from django.core import mail

    monkeypatch.delattr(mail, "outbox")


def test_immediate_backend_outside_tests_is_warned_about(outside_tests: None) -> None:
    with override_settings(SIGNALKIT_TASKS_BACKEND="immediate"):
        warnings = check_background_runs_in_process()

    assert warnings
    assert {warning.id for warning in warnings} == {"signalkit.W011"}
    # A set: in some random orders of the whole suite a second proxy of the
    # same receiver is connected (to a second post_published), with this
    # same message.
    [notify] = {w.msg for w in warnings if "notify_followers" in w.msg}
    assert notify == (
        "Background receiver tasks_receivers.notify_followers runs in the "
        "sending process, during the send: Tasks backend 'immediate' is an "
        "ImmediateBackend (Django's default when TASKS is not set), so send() "
        "waits for it."
    )


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the dummy backend: tasks wait for a worker
        {"SIGNALKIT_TASKS_BACKEND": ""},  # a bad setting: E010 reports it
        {"SIGNALKIT_TASKS_BACKEND": "missing"},  # E012 reports it
    ],
)
def test_backends_with_workers_or_unusable_ones_are_not_warned_about(
    outside_tests: None, changes: dict[str, Any]
) -> None:
    with override_settings(**changes):
        assert check_background_runs_in_process() == []


@RUN_AT_ONCE
def test_immediate_backend_in_tests_is_not_warned_about() -> None:
    assert check_background_runs_in_process() == []


@pytest.mark.parametrize(
    ("setting", "value", "check_id", "message"),
    [
        ("SIGNALKIT_OUTBOX", "yes", "signalkit.E013", "must be True or False"),
        (
            "SIGNALKIT_OUTBOX_FORWARD_TIMEOUT",
            0,
            "signalkit.E014",
            "must be a positive number of seconds, not 0 (int).",
        ),
        (
            "SIGNALKIT_OUTBOX_CLAIM_TIMEOUT",
            True,
            "signalkit.E015",
            "must be a positive number of seconds, not True (bool).",
        ),
        (
            "SIGNALKIT_OUTBOX_MAX_ATTEMPTS",
            0.5,
            "signalkit.E016",
            "must be a positive integer, not 0.5.",
        ),
    ],
)
def test_bad_outbox_setting_is_reported(
    setting: str, value: Any, check_id: str, message: str
) -> None:
    with override_settings(**{setting: value}):
        [error] = check_settings()

    assert error.id == check_id
    assert error.msg.startswith(f"{setting} {message}")
