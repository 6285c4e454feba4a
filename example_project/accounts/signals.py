"""Signals of the accounts app, and the receivers that react to them.

signalkit imports this module at start-up (autodiscovery), which both
declares ``accounts.signals.user_signed_up`` (as a function signature, which
type checkers hold every send and receiver to) and connects its receivers.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models.signals import post_save
from django.http import HttpRequest

from signalkit import receiver, signal

from .models import Profile, SiteStats

logger = logging.getLogger(__name__)


@signal
def user_signed_up(
    sender: type[User], *, user: User, request: HttpRequest | None
) -> None:
    """Sent after a new user has signed up (and has been logged in).

    Args:
        user: The User that was just created
        request: The HttpRequest of the sign-up, or None outside a request
    """


@receiver(user_signed_up)
def send_welcome_email(
    sender: type[User], user: User, request: HttpRequest | None, **kwargs: Any
) -> None:
    """Greet the new user through Django's mail framework."""
    if not user.email:
        return
    send_mail(
        subject="Welcome to the signalkit blog",
        message=(
            f"Hello {user.get_username()},\n\n"
            "thanks for signing up. Follow an author to hear about new posts.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@receiver(user_signed_up)
def update_signup_stats(
    sender: type[User], user: User, request: HttpRequest | None, **kwargs: Any
) -> None:
    """Count sign-ups in the single ``SiteStats`` row."""
    SiteStats.increment("signups")


@receiver(user_signed_up)
def log_signup(
    sender: type[User], user: User, request: HttpRequest | None, **kwargs: Any
) -> None:
    """Write an audit line; the remote address is known only inside a request."""
    address = request.META.get("REMOTE_ADDR", "?") if request is not None else "-"
    logger.info(
        "User %s (pk=%s) signed up from %s", user.get_username(), user.pk, address
    )


@receiver(post_save, sender=User)
def create_profile(
    sender: type[User],
    instance: User,
    created: bool,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    """Give every new user a profile; ``raw`` is true while loading fixtures."""
    if created and not raw:
        Profile.objects.get_or_create(user=instance)
