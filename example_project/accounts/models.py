"""Profiles, follows and site-wide counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F


class Profile(models.Model):
    """Extra data for a user, created by a ``post_save`` receiver."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    bio = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Profile of user {self.user_id}"


class Follow(models.Model):
    """``follower`` gets an e-mail whenever ``author`` publishes a post."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "author"], name="accounts_follow_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"User {self.follower_id} follows user {self.author_id}"


class SiteStats(models.Model):
    """A single row of counters, kept up to date by signal receivers."""

    signups = models.PositiveIntegerField(default=0)
    posts_published = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "site statistics"
        verbose_name_plural = "site statistics"

    def __str__(self) -> str:
        return "Site statistics"

    @classmethod
    def load(cls) -> SiteStats:
        """Return the single row, creating it on first use."""
        stats, _ = cls.objects.get_or_create(pk=1)
        return stats

    @classmethod
    def increment(cls, field: str) -> None:
        """Add one to ``field`` atomically (no read-modify-write race)."""
        cls.load()
        cls.objects.filter(pk=1).update(**{field: F(field) + 1})
