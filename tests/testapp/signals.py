"""Discovered by signalkit's autodiscovery, like any app's signals.py."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal as DjangoSignal

from signalkit import Signal, receiver

post_published = Signal(
    args={"post": "The Post that was published", "user": "Who published it"},
    doc="Sent after a blog post is published.",
)

comment_added = Signal(args=["comment"], optional_args=["notify"])

# A plain Django signal, as a third-party app would define it.
legacy_event = DjangoSignal()

published_log: list[Any] = []


@receiver(post_published)
def remember_publication(sender: Any, post: Any, user: Any, **kwargs: Any) -> str:
    published_log.append(post)
    return "remembered"
