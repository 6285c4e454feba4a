from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command

from accounts.models import Follow, SiteStats
from blog.models import Post, SearchEntry

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "follows": Follow.objects.count(),
        "posts": Post.objects.count(),
        "published": Post.objects.filter(published=True).count(),
        "search entries": SearchEntry.objects.count(),
    }


def test_load_sample_data_creates_users_posts_and_follows() -> None:
    call_command("load_sample_data", stdout=StringIO())

    assert counts() == {
        "users": 4,
        "follows": 3,
        "posts": 5,
        "published": 4,
        "search entries": 4,
    }
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="alice").check_password("signalkit")
    assert SiteStats.load().signups == 3
    assert SiteStats.load().posts_published == 4


def test_load_sample_data_is_idempotent() -> None:
    call_command("load_sample_data", stdout=StringIO())
    before, mails_before = counts(), len(mail.outbox)

    out = StringIO()
    call_command("load_sample_data", stdout=out)

    assert counts() == before
    assert len(mail.outbox) == mails_before
    assert SiteStats.load().signups == 3
    assert "User alice already exists" in out.getvalue()
