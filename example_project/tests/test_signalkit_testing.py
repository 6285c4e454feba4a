"""signalkit.testing in a project's own tests: the ``signals`` fixture and
the ``mute_signals`` marker from signalkit's pytest plugin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail

from accounts.models import Profile, SiteStats
from blog import services
from blog.models import Post
from blog.signals import post_published
from signalkit.testing import Capture, capture, mute

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(alice: User) -> Post:
    return Post.objects.create(author=alice, title="A draft", body="Signals rock")


def test_publishing_sends_post_published_once(
    signals: Capture, draft: Post, alice: User
) -> None:
    services.publish(draft, alice)
    services.publish(draft, alice)

    signals.assert_sent(post_published, sender=Post, post=draft, user=alice, times=1)


def test_publishing_runs_every_blog_receiver(
    signals: Capture, draft: Post, alice: User
) -> None:
    services.publish(draft, alice)

    (send,) = signals.sends_of("blog.signals.post_published")
    assert [call.name for call in send.receivers] == [
        "blog.signals.notify_followers",
        "blog.signals.announce_post",
        "blog.signals.update_search_index",
        "blog.signals.clear_caches",
        "blog.signals.count_published_post",
    ]
    assert [call.status for call in send.receivers] == [
        "ok",
        "enqueued",  # announce_post runs in a worker, after the commit.
        "ok",
        "ok",
        "ok",
    ]


def test_saving_a_draft_does_not_publish(signals: Capture, draft: Post) -> None:
    draft.title = "Still a draft"
    draft.save()

    signals.assert_not_sent("blog.signals.post_published")
    signals.assert_sent(
        "django.db.models.signals.post_save", sender=Post, created=False
    )


@pytest.mark.mute_signals("blog.signals.post_published")
def test_muted_publishing_emails_nobody(
    signals: Capture, draft: Post, alice: User, bob_follows_alice: object
) -> None:
    services.publish(draft, alice)

    assert mail.outbox == []
    assert SiteStats.load().posts_published == 0
    (send,) = signals.sends_of(post_published)
    assert send.muted


@pytest.mark.mute_signals("django.db.models.signals.post_save")
def test_muting_post_save_skips_the_profile(alice: User) -> None:
    # The marker covers the test's fixtures too: alice was created muted.
    assert not Profile.objects.filter(user=alice).exists()


def test_mute_as_a_context_manager_mutes_only_its_block(alice: User) -> None:
    with mute("django.db.models.signals.post_save"):
        quiet = User.objects.create_user("quiet")
    loud = User.objects.create_user("loud")

    assert not Profile.objects.filter(user=quiet).exists()
    assert Profile.objects.filter(user=loud).exists()


def test_capture_of_one_signal_leaves_out_the_rest(alice: User) -> None:
    with capture("accounts.signals.user_signed_up") as signed_up:
        User.objects.create_user("carol")

    assert signed_up.sends == []
