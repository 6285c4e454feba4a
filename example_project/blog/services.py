"""Actions on posts shared by the views and the sample data command."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from .models import Post
from .signals import post_published


def publish(post: Post, user: User) -> None:
    """Mark ``post`` published and send ``post_published``.

    Publishing an already published post does nothing, so the signal is sent
    once per post.
    """
    if post.published:
        return
    post.published = True
    post.published_at = timezone.now()
    post.save(update_fields=["published", "published_at"])
    post_published.send(sender=Post, post=post, user=user)
