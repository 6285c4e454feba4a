"""signalkit found the project's signals without any ready() code."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from blog.models import Post
from blog.signals import post_published
from signalkit import SignalArgumentError, registry


def receiver_names(dotted_name: str) -> list[str]:
    return [info.name for info in registry[dotted_name].receivers()]


def test_post_published_is_declared_with_its_arguments() -> None:
    entry = registry["blog.signals.post_published"]

    assert entry.signal is post_published
    assert dict(entry.args) == {
        "post": "The Post that was published",
        "user": "Who published it",
    }
    assert entry.doc == "Sent after a blog post is published."


def test_autodiscovery_connected_the_blog_receivers() -> None:
    assert receiver_names("blog.signals.post_published") == [
        "blog.signals.notify_followers",
        "blog.signals.announce_post",
        "blog.signals.update_search_index",
        "blog.signals.clear_caches",
        "blog.signals.count_published_post",
    ]


def test_autodiscovery_connected_the_accounts_receivers() -> None:
    assert receiver_names("accounts.signals.user_signed_up") == [
        "accounts.signals.send_welcome_email",
        "accounts.signals.update_signup_stats",
        "accounts.signals.log_signup",
    ]


def test_model_signal_receivers_are_listed_under_the_builtin_signals() -> None:
    assert "blog.signals.on_post_saved" in receiver_names(
        "django.db.models.signals.post_save"
    )
    assert "blog.signals.log_deletion" in receiver_names(
        "django.db.models.signals.pre_delete"
    )


@pytest.mark.django_db
def test_sending_without_a_declared_argument_is_an_error(alice: User) -> None:
    post = Post.objects.create(author=alice, title="Oops")

    with pytest.raises(SignalArgumentError, match="user"):
        post_published.send(sender=Post, post=post)  # type: ignore[call-arg]
