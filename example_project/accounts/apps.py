from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    # No ready() here: signalkit autodiscovers accounts/signals.py.
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"
