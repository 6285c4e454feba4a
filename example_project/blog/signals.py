"""Signals of the blog app, and the receivers that react to them.

signalkit imports this module at start-up (autodiscovery): declaring
``blog.signals.post_published`` and connecting every receiver below needs no
``AppConfig.ready()`` code. The signal is declared as a function signature
(``@signal``), so mypy and pyright check every send and every receiver
against it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.mail import send_mass_mail
from django.db import models
from django.db.models.signals import post_save, pre_delete

from accounts.models import SiteStats
from signalkit import receiver, signal

from .models import Post, SearchEntry

logger = logging.getLogger(__name__)

#: The low-level cache key of the home page's list of published posts.
HOME_CACHE_KEY = "blog:home:published-posts"


@signal
def post_published(sender: type[Post], *, post: Post, user: User) -> None:
    """Sent after a blog post is published.

    Args:
        post: The Post that was published
        user: Who published it
    """


@receiver(post_published)
def notify_followers(sender: type[Post], post: Post, user: User, **kwargs: Any) -> int:
    """E-mail everyone who follows the author; return how many were sent."""
    author = post.author.get_username()
    messages = [
        (
            f"New post by {author}: {post.title}",
            f"{author} just published \u201c{post.title}\u201d.\n\n"
            f"Read it at {post.get_absolute_url()}\n",
            None,
            [email],
        )
        for email in User.objects.filter(
            following__author_id=post.author_id, is_active=True
        )
        .exclude(email="")
        .values_list("email", flat=True)
    ]
    sent = send_mass_mail(messages) if messages else 0
    logger.info("Notified %d follower(s) of post pk=%s", sent, post.pk)
    return sent


@receiver(post_published, background=True)
def announce_post(sender: type[Post], post: Post, user: User, **kwargs: Any) -> None:
    """Announce the post to feed readers and the site's social accounts.

    Slow network calls that may fail: ``background=True`` makes each publish
    enqueue a task (after the transaction commits) that a worker runs, here
    ``manage.py db_worker`` (``make demo`` starts one). A failure leaves a
    failed task with its traceback in the admin, not an error on "Publish".
    """
    logger.info("Announced post pk=%s by user pk=%s to feed readers", post.pk, user.pk)


WORD_RE = re.compile(r"\w+")


@receiver(post_published)
def update_search_index(
    sender: type[Post], post: Post, user: User, **kwargs: Any
) -> None:
    """Store the post's distinct lower-case words in its ``SearchEntry``."""
    words = dict.fromkeys(WORD_RE.findall(f"{post.title} {post.body}".lower()))
    SearchEntry.objects.update_or_create(post=post, defaults={"words": " ".join(words)})


@receiver(post_published)
def clear_caches(sender: type[Post], post: Post, user: User, **kwargs: Any) -> None:
    """Drop the cached home page list so the new post shows up at once."""
    cache.delete(HOME_CACHE_KEY)


@receiver(post_published)
def count_published_post(
    sender: type[Post], post: Post, user: User, **kwargs: Any
) -> None:
    SiteStats.increment("posts_published")


def on_post_saved(
    sender: type[Post], instance: Post, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Log new drafts; ``created`` is Django's flag for an INSERT."""
    if raw:
        return
    if created:
        logger.info(
            "Post pk=%s created by user pk=%s (%s)",
            instance.pk,
            instance.author_id,
            "published" if instance.published else "draft",
        )
    else:
        logger.info("Post pk=%s updated", instance.pk)


# The explicit form of @receiver(post_save, sender=Post): only Post saves.
post_save.connect(on_post_saved, sender=Post, dispatch_uid="blog.on_post_saved")


@receiver(pre_delete)
def log_deletion(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    """Log every deletion of every model: no ``sender``, so all of them.

    Only the model label and primary key are used: ``str(instance)`` could run
    queries (or fail) for an arbitrary model.
    """
    logger.info("Deleting <%s pk=%s>", sender._meta.label, instance.pk)
