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

    tasks_receivers.report_requested.send(sender=None, topic="sales")
    return {}


SCENARIOS: dict[str, Any] = {
    "commit": lambda: publish(commit=True),
    "rollback": lambda: publish(commit=False),
    "publish-then-delete": publish_then_delete,
    "failing-callback": publish_after_a_failing_callback,
    "savepoint-rollback": publish_in_a_rolled_back_savepoint,
    "request-report": request_report,
}

if __name__ == "__main__":
    django.setup()
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
