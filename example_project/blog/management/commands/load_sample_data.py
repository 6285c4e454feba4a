"""Load a few users, follows and posts; running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Follow
from accounts.signals import user_signed_up
from blog import services
from blog.models import Post

PASSWORD = "signalkit"

USERS = [
    ("alice", "alice@example.com", "Writes about Django signals."),
    ("bob", "bob@example.com", "Moves slow receivers to background tasks."),
    ("carol", "carol@example.com", "Tests everything, twice."),
]

# (follower, author)
FOLLOWS = [("bob", "alice"), ("carol", "alice"), ("alice", "bob")]

# (author, title, body, published)
POSTS = [
    (
        "alice",
        "Hello, signals",
        "Signals let decoupled apps react to what happens elsewhere.",
        True,
    ),
    (
        "alice",
        "Declaring signals with signalkit",
        "Give each signal its arguments and a docstring, then run "
        "`manage.py signals` to see the whole catalogue.",
        True,
    ),
    (
        "bob",
        "Receivers in the background",
        "A slow receiver can run as a task on a worker instead of in the request.",
        True,
    ),
    (
        "bob",
        "Muting signals in tests",
        "Draft: mute_signals keeps receivers quiet where a test does not need them.",
        False,
    ),
    (
        "carol",
        "<script>alert('titles are text')</script> Escaping matters",
        "Every title on this site is autoescaped, so this one renders as text.",
        True,
    ),
]


class Command(BaseCommand):
    help = (
        "Create sample users (password 'signalkit'), an 'admin'/'admin' "
        "superuser, follows and posts. Safe to run more than once."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = {name: self._user(name, email, bio) for name, email, bio in USERS}
        self._admin()
        for follower, author in FOLLOWS:
            _, created = Follow.objects.get_or_create(
                follower=users[follower], author=users[author]
            )
            if created:
                self.stdout.write(f"{follower} now follows {author}")
        for author, title, body, published in POSTS:
            self._post(users[author], title, body, published)
        self.stdout.write(self.style.SUCCESS("Sample data is loaded."))

    def _user(self, username: str, email: str, bio: str) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": email}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            user.profile.bio = bio
            user.profile.save(update_fields=["bio"])
            # Outside a request there is no HttpRequest to pass along.
            user_signed_up.send(sender=User, user=user, request=None)
            self.stdout.write(f"Created user {username} (password {PASSWORD!r})")
        else:
            self.stdout.write(f"User {username} already exists")
        return user

    def _admin(self) -> None:
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Superuser admin already exists")
            return
        User.objects.create_superuser("admin", "admin@example.com", "admin")
        self.stdout.write("Created superuser admin (password 'admin')")

    def _post(self, author: User, title: str, body: str, published: bool) -> None:
        post = Post.objects.filter(author=author, title=title).first()
        if post is None:
            post = Post.objects.create(author=author, title=title, body=body)
            self.stdout.write(f"Created post {title!r} by {author.get_username()}")
        if published and not post.published:
            services.publish(post, author)
            self.stdout.write(f"Published {title!r}")
