"""The home page's two-line tour: each story of the tutorial, in the panel.

Requests go through the real debug toolbar (DEBUG on), as with ``make demo``;
each action's POST is kept by the toolbar, and its signalkit panel lists the
story's signal with every receiver that ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from debug_toolbar.store import MemoryStore
from debug_toolbar.toolbar import DebugToolbar
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from blog.models import Post

pytestmark = pytest.mark.django_db

PANEL_ID = "SignalkitPanel"


@pytest.fixture
def toolbars(settings: Settings) -> Iterator[list[DebugToolbar]]:
    """Every toolbar made during the test, in request order."""
    # pytest-django turns DEBUG off, which hides the toolbar.
    settings.DEBUG = True
    settings.DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False}
    created: list[DebugToolbar] = []

    def keep(sender: Any, toolbar: DebugToolbar, **kwargs: Any) -> None:
        created.append(toolbar)

    DebugToolbar._created.connect(keep)
    yield created
    DebugToolbar._created.disconnect(keep)
    MemoryStore.clear()


def receivers_run(toolbar: DebugToolbar, signal: str) -> list[list[str]]:
    """For each send of *signal* in the toolbar's panel, the receivers that ran."""
    assert toolbar.request_id is not None
    stats = toolbar.store.panel(toolbar.request_id, PANEL_ID)
    # The panel stores each name once, in "names", and refers to it by index.
    names = stats["names"]
    return [
        [names[call["n"]] for call in send["r"]]
        for send in stats["sends"]
        if names[send["g"]] == signal
    ]


def post_request(toolbars: list[DebugToolbar]) -> DebugToolbar:
    [toolbar] = [each for each in toolbars if each.request.method == "POST"]
    return toolbar


def test_home_page_says_how_to_see_each_story(client: Client) -> None:
    html = client.get(reverse("blog:home")).content.decode()

    tour = html[html.index('<p class="tour"') : html.index("</p>", html.index("tour"))]
    assert f'<a href="{reverse("accounts:signup")}">Sign up</a>' in tour
    assert f'<a href="{reverse("blog:new")}">Publish a post</a>' in tour
    assert "delete one of yours" in tour
    assert "<b>Signals</b>" in tour
    assert "<b>History</b>" in tour
    assert tour.count("<br>") == 1


def test_publishing_shows_the_post_on_the_page_of_the_publishing_request(
    alice_client: Client, toolbars: list[DebugToolbar]
) -> None:
    response = alice_client.post(
        reverse("blog:new"),
        {"title": "Watch me", "body": "in the panel", "publish_now": "on"},
    )

    # No redirect: the toolbar on the page is the POST's, no History needed.
    assert response.status_code == 200
    [toolbar] = toolbars
    assert toolbar.request.method == "POST"
    assert f'data-request-id="{toolbar.request_id}"' in response.content.decode()


def test_signing_up_shows_user_signed_up_in_the_panel(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "dora",
            "email": "dora@example.com",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert receivers_run(post_request(toolbars), "accounts.signals.user_signed_up") == [
        [
            "accounts.signals.send_welcome_email",
            "accounts.signals.update_signup_stats",
            "accounts.signals.log_signup",
        ]
    ]
    # The page the user lands on has the toolbar, whose History lists the POST.
    assert b'id="djDebug"' in response.content


def test_publishing_a_post_shows_post_published_in_the_panel(
    alice_client: Client, toolbars: list[DebugToolbar]
) -> None:
    alice_client.post(
        reverse("blog:new"),
        {"title": "Watch me", "body": "in the panel", "publish_now": "on"},
        follow=True,
    )

    assert receivers_run(post_request(toolbars), "blog.signals.post_published") == [
        [
            "blog.signals.notify_followers",
            "blog.signals.announce_post",
            "blog.signals.update_search_index",
            "blog.signals.clear_caches",
            "blog.signals.count_published_post",
        ]
    ]


def test_deleting_a_post_shows_pre_delete_in_the_panel(
    alice_client: Client, alice: User, toolbars: list[DebugToolbar]
) -> None:
    post = Post.objects.create(author=alice, title="Short-lived", body="...")

    alice_client.post(reverse("blog:delete", args=[post.slug]), follow=True)

    assert receivers_run(
        post_request(toolbars), "django.db.models.signals.pre_delete"
    ) == [["blog.signals.log_deletion"]]
