"""Background receivers for the tests; workers import them by dotted path.

Each receiver notes its call in :data:`calls` and, when the environment
variable ``SIGNALKIT_TASKS_LOG`` names a file (as in a worker process), appends
it there as a JSON line.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from django.db.models.signals import post_save

from signalkit import Signal, receiver
from signalkit.background import idempotency_key
from testapp.models import Comment

post_published = Signal(args=["post"], optional_args=["note"])
report_requested = Signal(args=["topic"])
something_happened = Signal(optional_args=["value"])
happened_later = Signal(args=["value"])
slow_requested = Signal(args=["key"])
# Receivers on two queues and no priority: every backend can carry them.
post_shared = Signal(args=["post"], optional_args=["note"])

calls: list[dict[str, Any]] = []


def note_call(**entry: Any) -> None:
    calls.append(entry)
    log = os.environ.get("SIGNALKIT_TASKS_LOG")
    if log:
        with open(log, "a") as file:
            file.write(json.dumps(entry, default=repr) + "\n")


def label(sender: Any) -> str | None:
    return None if sender is None else str(sender._meta.label)


@receiver(post_published, background=True)
def notify_followers(sender: Any, post: Any, note: str = "", **kwargs: Any) -> None:
    note_call(
        receiver="notify_followers",
        sender=label(sender),
        post=post.pk,
        title=post.title,
        note=note,
        signal=kwargs["signal"] is post_published,
    )


@receiver(post_published, background=True, queue_name="audit", priority=5)
def audit_publication(sender: Any, post: Any, **kwargs: Any) -> None:
    note_call(receiver="audit_publication", post=post.pk)


@receiver(report_requested, background=True)
def build_report(sender: Any, topic: str, **kwargs: Any) -> None:
    raise RuntimeError(f"cannot build the {topic} report")


@receiver(post_save, sender=Comment, background=True)
def index_comment(sender: Any, instance: Comment, created: bool, **kwargs: Any) -> None:
    note_call(
        receiver="index_comment",
        sender=label(sender),
        comment=instance.pk,
        body=instance.body,
        created=created,
        update_fields=sorted(kwargs["update_fields"] or []),
    )


@receiver(something_happened, background=True)
def remember(sender: Any, value: Any = None, **kwargs: Any) -> None:
    note_call(receiver="remember", sender=sender, value=value)


@receiver(happened_later, background=True)
async def remember_later(sender: Any, value: Any, **kwargs: Any) -> None:
    note_call(receiver="remember_later", sender=sender, value=value)


@receiver(post_shared, background=True)
def share_post(sender: Any, post: Any, note: str = "", **kwargs: Any) -> None:
    note_call(
        receiver="share_post",
        post=post.pk,
        title=post.title,
        note=note,
        key=idempotency_key(),
    )


@receiver(post_shared, background=True, queue_name="audit")
def audit_share(sender: Any, post: Any, **kwargs: Any) -> None:
    note_call(receiver="audit_share", post=post.pk)


def attempts(key: str) -> int:
    """How many times finish_on_second_attempt started for *key* (log file)."""
    log = os.environ.get("SIGNALKIT_TASKS_LOG")
    if not log or not os.path.exists(log):
        return 0
    with open(log) as file:
        entries = [json.loads(line) for line in file]
    return sum(
        entry.get("key") == key and entry.get("event") == "started" for entry in entries
    )


@receiver(slow_requested, background=True)
def finish_on_second_attempt(sender: Any, key: str, **kwargs: Any) -> None:
    """Busy for minutes on its first attempt: a test kills its worker meanwhile."""
    note_call(receiver="finish_on_second_attempt", key=key, event="started")
    if attempts(key) == 1:
        time.sleep(300)
    note_call(receiver="finish_on_second_attempt", key=key, event="finished")


def forget_post(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Connected to delete signals by the tests that need it (not here: other
    tests delete posts)."""
    note_call(receiver="forget_post", post=instance.pk, title=instance.title)


request_made = Signal(args=["request", "path"])


def log_path(sender: Any, path: str, **kwargs: Any) -> None:
    """Connected with exclude=("request",) by the tests."""
    note_call(receiver="log_path", path=path, request="request" in kwargs)
