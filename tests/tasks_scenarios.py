"""What a web process does, run in its own process by tests/test_tasks_worker.py.

``python -m tasks_scenarios NAME`` (with ``DJANGO_SETTINGS_MODULE=settings_tasks``)
runs one scenario and prints its outcome as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import django


class Rollback(Exception):
    pass


def publish(*, commit: bool) -> dict[str, Any]:
    from django.db import transaction

    import tasks_receivers
    from testapp.models import Comment, Post

    try:
        with transaction.atomic():
            post = Post.objects.create(title="Hello")
            responses = tasks_receivers.post_published.send(
                sender=Post, post=post, note="first post"
            )
            Comment.objects.create(post=post, body="Nice")
            if not commit:
                raise Rollback
    except Rollback:
        pass
    return {"post": post.pk, "responses": [repr(result) for _, result in responses]}


def publish_after_a_failing_callback() -> dict[str, Any]:
    """An on-commit callback registered before the send raises at COMMIT."""
    from django.db import transaction

    import tasks_receivers
    from testapp.models import Post

    def fail() -> None:
        raise Rollback("an earlier on-commit callback failed")

    try:
        with transaction.atomic():
            transaction.on_commit(fail)
            post = Post.objects.create(title="Committed")
            tasks_receivers.post_published.send(sender=Post, post=post)
    except Rollback as error:
        return {"post": post.pk, "error": str(error)}
    raise AssertionError("the callback did not raise")


def publish_in_a_rolled_back_savepoint() -> dict[str, Any]:
    """A send in a savepoint that rolls back, then one in the outer transaction."""
    from django.db import transaction

    import tasks_receivers
    from testapp.models import Post

    with transaction.atomic():
        post = Post.objects.create(title="Outer")
        try:
            with transaction.atomic():
                tasks_receivers.post_published.send(
                    sender=Post, post=post, note="rolled back"
                )
                raise Rollback
        except Rollback:
            pass
        tasks_receivers.post_published.send(sender=Post, post=post, note="kept")
    return {"post": post.pk}


def publish_then_delete() -> dict[str, Any]:
    import tasks_receivers
    from testapp.models import Post

    post = Post.objects.create(title="Soon gone")
    tasks_receivers.post_published.send_on_commit(sender=Post, post=post)
    Post.objects.filter(pk=post.pk).delete()
    return {"post": post.pk}


def request_report() -> dict[str, Any]:
    import tasks_receivers

    responses = tasks_receivers.report_requested.send(sender=None, topic="sales")
    return {"tasks": [result.task_id for _, result in responses]}


def share_many(count: str, outcome: str = "commit") -> dict[str, Any]:
    """*count* sends, each in a transaction of its own that commits or not."""
    from django.db import transaction

    import tasks_receivers
    from testapp.models import Post

    posts = []
    for number in range(int(count)):
        try:
            with transaction.atomic():
                post = Post.objects.create(title=f"Post {number}")
                tasks_receivers.post_shared.send(
                    sender=Post, post=post, note=str(number)
                )
                if outcome == "rollback":
                    raise Rollback
        except Rollback:
            continue
        posts.append(post.pk)
    return {"posts": posts}


def share_then_rename() -> dict[str, Any]:
    """The row changes after the send: the worker must see the new title."""
    import tasks_receivers
    from testapp.models import Post

    post = Post.objects.create(title="Before")
    tasks_receivers.post_shared.send(sender=Post, post=post)
    Post.objects.filter(pk=post.pk).update(title="Renamed after the send")
    return {"post": post.pk}


def request_slow(key: str) -> dict[str, Any]:
    import tasks_receivers

    responses = tasks_receivers.slow_requested.send(sender=None, key=key)
    return {"tasks": [result.task_id for _, result in responses]}


def result(task_id: str) -> dict[str, Any]:
    """What the Tasks backend knows of one task."""
    from signalkit.tasks_framework import tasks_framework

    found = tasks_framework().task_backends["default"].get_result(task_id)
    return {
        "status": str(found.status),
        "errors": [
            {
                "exception_class_path": error.exception_class_path,
                "traceback": error.traceback,
            }
            for error in found.errors
        ],
    }


def rq_clean_registries() -> dict[str, Any]:
    """What an RQ worker's maintenance does once a job's heartbeat has expired.

    The heartbeat outlives a job by at least a minute; cleaning up as of an
    hour from now spares the test that wait and runs RQ's own code.
    """
    import time

    import django_rq
    from django_tasks_rq import Job
    from rq.registry import StartedJobRegistry

    abandoned: list[str] = []
    failed: list[str] = []
    for name in ("default", "audit"):
        queue = django_rq.get_queue(name, job_class=Job)
        registry = StartedJobRegistry(queue=queue)
        abandoned += registry.get_job_ids()
        registry.cleanup(timestamp=time.time() + 3600)
        failed += queue.failed_job_registry.get_job_ids()
    return {"abandoned": abandoned, "failed": failed}


def share_then_die(count: str) -> dict[str, Any]:
    """A rolled-back send, then *count* sends committed in one transaction;
    the process is SIGKILLed at COMMIT, before anything is forwarded."""
    import os
    import signal

    from django.db import transaction

    import tasks_receivers
    from testapp.models import Post

    try:
        with transaction.atomic():
            post = Post.objects.create(title="Rolled back")
            tasks_receivers.post_shared.send(sender=Post, post=post, note="rolled back")
            raise Rollback
    except Rollback:
        pass
    with transaction.atomic():
        # Registered first, so it runs first: the forwards never start.
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        for number in range(int(count)):
            post = Post.objects.create(title=f"Post {number}")
            tasks_receivers.post_shared.send(sender=Post, post=post, note=str(number))
    raise AssertionError("still alive after COMMIT")


def relay(batch_size: str = "100") -> dict[str, Any]:
    """One run of the relay, as manage.py signalkit_relay does it."""
    from signalkit.outbox import relay as run_relay

    report = run_relay(batch_size=int(batch_size))
    return {"forwarded": report.forwarded, "failed": report.failed}


def relay_then_die(batch_size: str) -> dict[str, Any]:
    """A relay SIGKILLed mid-batch: after enqueueing a batch, before deleting
    its rows (the worst moment: every task of the batch goes out twice)."""
    import os
    import signal

    from signalkit import outbox
    from signalkit.models import OutboxMessage

    # The dead sender's claim is over (SIGNALKIT_OUTBOX_CLAIM_TIMEOUT).
    OutboxMessage.objects.update(claimed_until=None)

    def die(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    outbox._delete = die  # type: ignore[assignment]
    outbox.relay(batch_size=int(batch_size))
    raise AssertionError("the relay did not die")


def outbox_rows() -> dict[str, Any]:
    from signalkit.models import OutboxMessage

    return {"rows": OutboxMessage.objects.count()}


def capture_on_commit() -> dict[str, Any]:
    """Django's TestCase.captureOnCommitCallbacks(execute=True) around a send
    to a backend outside the database, with a callback registered before."""
    from django.conf import settings
    from django.db import transaction
    from django.test import TestCase, override_settings

    import tasks_receivers
    from signalkit.tasks_framework import tasks_framework
    from testapp.models import Post

    dummy = f"{tasks_framework().__name__}.backends.dummy.DummyBackend"
    tasks = {
        **settings.TASKS,
        "dummy": {"BACKEND": dummy, "QUEUES": ["default", "audit"]},
    }
    earlier: list[str] = []
    with override_settings(TASKS=tasks, SIGNALKIT_TASKS_BACKEND="dummy"):
        try:
            with transaction.atomic():  # as a TestCase's transaction
                transaction.on_commit(lambda: earlier.append("ran"))
                post = Post.objects.create(title="Hello")
                with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
                    tasks_receivers.post_shared.send(sender=Post, post=post)
                enqueued = tasks_framework().task_backends["dummy"].results
                raise Rollback
        except Rollback:
            pass
    return {
        "callbacks": sorted(callback.__qualname__ for callback in callbacks),
        "enqueued": sorted(result.kwargs["receiver"] for result in enqueued),
        "earlier": earlier,
    }


SCENARIOS: dict[str, Any] = {
    "commit": lambda: publish(commit=True),
    "rollback": lambda: publish(commit=False),
    "publish-then-delete": publish_then_delete,
    "failing-callback": publish_after_a_failing_callback,
    "savepoint-rollback": publish_in_a_rolled_back_savepoint,
    "request-report": request_report,
    "share-many": share_many,
    "share-then-rename": share_then_rename,
    "request-slow": request_slow,
    "result": result,
    "rq-clean-registries": rq_clean_registries,
    "share-then-die": share_then_die,
    "relay": relay,
    "relay-then-die": relay_then_die,
    "outbox-rows": outbox_rows,
    "capture-on-commit": capture_on_commit,
}

if __name__ == "__main__":
    django.setup()
    print(json.dumps(SCENARIOS[sys.argv[1]](*sys.argv[2:])))
