"""The outbox in Django's admin: what waits for its backend, and dead letters."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from signalkit.models import OutboxMessage


class DeadLetterFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "waiting for the relay"), ("dead", "dead letter")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> QuerySet[OutboxMessage]:
        if self.value() == "dead":
            return queryset.filter(dead_at__isnull=False)
        if self.value() == "waiting":
            return queryset.filter(dead_at__isnull=True)
        return queryset


class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    list_display = (
        "receiver",
        "signal",
        "backend",
        "queue_name",
        "created_at",
        "attempts",
        "dead_at",
        "last_error",
    )
    list_filter = (DeadLetterFilter, "backend", "signal")
    search_fields = ("receiver", "signal", "id")
    readonly_fields = tuple(
        field.name for field in OutboxMessage._meta.get_fields() if field.concrete
    )
    actions = ("retry",)

    @admin.action(description="Retry: give the selected rows back to the relay")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = queryset.update(dead_at=None, attempts=0, claimed_until=None)
        self.message_user(
            request, f"{count} outbox rows go to the next relay run.", messages.SUCCESS
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Django's admin imports this module when it is installed; anything else that
# imports it (a tool that imports every module) must not need the admin.
if apps.is_installed("django.contrib.admin"):
    admin.site.register(OutboxMessage, OutboxMessageAdmin)
