"""Background receivers for the tests; workers import them by dotted path.

Each receiver notes its call in :data:`calls` and, when the environment
variable ``SIGNALKIT_TASKS_LOG`` names a file (as in a worker process), appends
it there as a JSON line.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.db.models.signals import post_save

from signalkit import Signal, receiver
from testapp.models import Comment

post_published = Signal(args=["post"], optional_args=["note"])
report_requested = Signal(args=["topic"])
something_happened = Signal(optional_args=["value"])
happened_later = Signal(args=["value"])

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
