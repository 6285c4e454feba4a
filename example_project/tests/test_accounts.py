from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Follow, Profile, SiteStats
from accounts.signals import user_signed_up

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "dave",
    "email": "dave@example.com",
    "password1": "a-long-passphrase",
    "password2": "a-long-passphrase",
}


def test_signup_creates_user_and_logs_in(client: Client) -> None:
    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 302
    user = User.objects.get(username="dave")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_sends_welcome_email(client: Client) -> None:
    client.post(reverse("accounts:signup"), SIGNUP)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dave@example.com"]
    assert mail.outbox[0].subject == "Welcome to the signalkit blog"


def test_signup_without_email_sends_no_mail(client: Client) -> None:
    client.post(reverse("accounts:signup"), {**SIGNUP, "email": ""})

    assert User.objects.filter(username="dave").exists()
    assert mail.outbox == []


def test_signup_counts_the_signup(client: Client) -> None:
    client.post(reverse("accounts:signup"), SIGNUP)

    assert SiteStats.load().signups == 1


def test_signup_logs_the_event(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="accounts"):
        client.post(reverse("accounts:signup"), SIGNUP)

    assert "User dave (pk=" in caplog.text
    assert "signed up from 127.0.0.1" in caplog.text


def test_invalid_signup_sends_nothing(client: Client) -> None:
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password2": "x"})

    assert response.status_code == 200
    assert mail.outbox == []
    assert SiteStats.load().signups == 0


def test_user_signed_up_outside_a_request_has_no_address(
    alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="accounts"):
        user_signed_up.send(sender=User, user=alice, request=None)

    assert "signed up from -" in caplog.text
    assert len(mail.outbox) == 1


def test_new_user_gets_a_profile(alice: User) -> None:
    assert Profile.objects.filter(user=alice).exists()


def test_follow_and_unfollow(alice: User, bob: User, client: Client) -> None:
    client.force_login(bob)
    url = reverse("accounts:follow", args=["alice"])

    client.post(url)
    assert Follow.objects.filter(follower=bob, author=alice).exists()

    client.post(url, {"action": "unfollow"})
    assert not Follow.objects.filter(follower=bob, author=alice).exists()


def test_profile_page_lists_published_posts(client: Client, alice: User) -> None:
    response = client.get(reverse("accounts:profile", args=["alice"]))

    assert response.status_code == 200
    assert b"No published posts." in response.content
