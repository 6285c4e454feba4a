from __future__ import annotations

import logging
import weakref

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from accounts.models import Follow, SiteStats
from blog import services
from blog.models import Post, SearchEntry
from blog.signals import HOME_CACHE_KEY, post_published

pytestmark = pytest.mark.django_db

XSS_TITLE = "<script>alert('x')</script> Hello"


@pytest.fixture
def draft(alice: User) -> Post:
    return Post.objects.create(author=alice, title="A draft", body="Signals rock")


def test_new_post_published_at_once(alice_client: Client) -> None:
    response = alice_client.post(
        reverse("blog:new"),
        {"title": "Fresh news", "body": "Receivers everywhere", "publish_now": "on"},
    )

    post = Post.objects.get(title="Fresh news")
    # Shown in answer to the POST, so the toolbar on it is the publishing one.
    assert response.status_code == 200
    assert "<h1>Fresh news</h1>" in response.content.decode()
    assert "Post published." in response.content.decode()
    assert post.published
    assert post.published_at is not None


def test_new_post_without_publish_now_stays_a_draft(alice_client: Client) -> None:
    alice_client.post(reverse("blog:new"), {"title": "Later", "body": "..."})

    post = Post.objects.get(title="Later")
    assert not post.published
    assert not SearchEntry.objects.filter(post=post).exists()


def test_publishing_updates_the_search_index(draft: Post, alice: User) -> None:
    services.publish(draft, alice)

    assert SearchEntry.objects.get(post=draft).words == "a draft signals rock"


def test_publishing_emails_followers(
    draft: Post, alice: User, bob_follows_alice: Follow
) -> None:
    services.publish(draft, alice)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@example.com"]
    assert mail.outbox[0].subject == "New post by alice: A draft"


def test_publishing_clears_the_home_page_cache(
    client: Client, draft: Post, alice: User
) -> None:
    client.get(reverse("blog:home"))
    assert cache.get(HOME_CACHE_KEY) == []

    services.publish(draft, alice)

    assert cache.get(HOME_CACHE_KEY) is None
    assert b"A draft" in client.get(reverse("blog:home")).content


def test_publishing_counts_the_post(draft: Post, alice: User) -> None:
    services.publish(draft, alice)

    assert SiteStats.load().posts_published == 1


def test_publishing_twice_sends_the_signal_once(
    draft: Post, alice: User, bob_follows_alice: Follow
) -> None:
    services.publish(draft, alice)
    services.publish(draft, alice)

    assert len(mail.outbox) == 1
    assert SiteStats.load().posts_published == 1


def test_post_published_has_the_blog_receivers() -> None:
    # Weak references, except the background receiver (announce_post).
    names = {
        getattr(ref() if isinstance(ref, weakref.ref) else ref, "__name__", None)
        for _, ref, *_ in post_published.receivers
    }

    assert {
        "notify_followers",
        "announce_post",
        "update_search_index",
        "clear_caches",
    } <= names


def test_publish_button_publishes_a_draft(
    alice_client: Client, draft: Post, bob_follows_alice: Follow
) -> None:
    response = alice_client.post(reverse("blog:publish", args=[draft.slug]))

    draft.refresh_from_db()
    assert response.status_code == 302
    assert draft.published
    assert SearchEntry.objects.filter(post=draft).exists()
    assert len(mail.outbox) == 1


def test_publish_button_is_for_the_author_only(
    client: Client, bob: User, draft: Post
) -> None:
    client.force_login(bob)

    response = client.post(reverse("blog:publish", args=[draft.slug]))

    assert response.status_code == 404
    draft.refresh_from_db()
    assert not draft.published


def test_creating_a_post_logs_the_created_flag(
    alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="blog"):
        post = Post.objects.create(author=alice, title="New")
        post.save()

    assert f"Post pk={post.pk} created by user pk={alice.pk} (draft)" in caplog.text
    assert f"Post pk={post.pk} updated" in caplog.text


def test_deleting_a_post_logs_pre_delete_for_every_model(
    alice_client: Client, draft: Post, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    services.publish(draft, alice)
    entry_pk = SearchEntry.objects.get(post=draft).pk

    with caplog.at_level(logging.INFO, logger="blog"):
        response = alice_client.post(reverse("blog:delete", args=[draft.slug]))

    assert response.status_code == 302
    assert not Post.objects.filter(pk=draft.pk).exists()
    assert f"Deleting <blog.Post pk={draft.pk}>" in caplog.text
    assert f"Deleting <blog.SearchEntry pk={entry_pk}>" in caplog.text


def test_pre_delete_receiver_has_no_sender_filter(
    bob_follows_alice: Follow, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="blog"):
        bob_follows_alice.delete()

    assert "Deleting <accounts.Follow pk=" in caplog.text


def test_delete_asks_for_confirmation_first(alice_client: Client, draft: Post) -> None:
    response = alice_client.get(reverse("blog:delete", args=[draft.slug]))

    assert response.status_code == 200
    assert Post.objects.filter(pk=draft.pk).exists()


def test_only_the_author_may_delete(client: Client, bob: User, alice: User) -> None:
    post = Post.objects.create(author=alice, title="Mine")
    services.publish(post, alice)
    client.force_login(bob)

    response = client.post(reverse("blog:delete", args=[post.slug]))

    assert response.status_code == 403
    assert Post.objects.filter(pk=post.pk).exists()


def test_drafts_are_hidden_from_other_users(client: Client, draft: Post) -> None:
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_titles_are_escaped(client: Client, alice: User) -> None:
    post = Post.objects.create(author=alice, title=XSS_TITLE)
    services.publish(post, alice)

    for url in (reverse("blog:home"), post.get_absolute_url()):
        content = client.get(url).content.decode()
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Hello" in content


def test_search_uses_the_index(client: Client, draft: Post, alice: User) -> None:
    services.publish(draft, alice)

    response = client.get(reverse("blog:search"), {"q": "ROCK"})

    assert b"A draft" in response.content


def test_slugs_are_unique(alice: User) -> None:
    first = Post.objects.create(author=alice, title="Same")
    second = Post.objects.create(author=alice, title="Same")

    assert (first.slug, second.slug) == ("same", "same-2")


def test_new_post_needs_a_login(client: Client) -> None:
    response = client.get(reverse("blog:new"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_login_page_renders(client: Client) -> None:
    assert client.get(reverse("accounts:login")).status_code == 200


def test_logout_redirects_home(alice_client: Client) -> None:
    response = alice_client.post(reverse("accounts:logout"))

    assert response["Location"] == reverse("blog:home")


def test_publishing_enqueues_the_announcement_for_a_worker(
    draft: Post,
    alice: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No on-commit callback to run: the queue is in this database, so the task
    # is written inside the publishing transaction (the test's own, here).
    services.publish(draft, alice)
    [task] = DBTaskResult.objects.all()

    # What `manage.py db_worker` does with it.
    with caplog.at_level(logging.INFO, logger="blog.signals"):
        task.task.call(*task.args_kwargs["args"], **task.args_kwargs["kwargs"])

    assert task.args_kwargs["kwargs"]["receiver"] == "blog.signals.announce_post"
    assert f"Announced post pk={draft.pk} by user pk={alice.pk}" in caplog.text
