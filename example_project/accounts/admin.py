from __future__ import annotations

from django.contrib import admin

from .models import Follow, Profile, SiteStats


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    list_display = ("id", "user", "bio")
    list_select_related = ("user",)
    search_fields = ("user__username",)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin[Follow]):
    list_display = ("id", "follower", "author", "created_at")
    list_select_related = ("follower", "author")


@admin.register(SiteStats)
class SiteStatsAdmin(admin.ModelAdmin[SiteStats]):
    list_display = ("id", "signups", "posts_published")
