from __future__ import annotations

from django.apps import AppConfig


class BlogConfig(AppConfig):
    # No ready() here: signalkit autodiscovers blog/signals.py.
    default_auto_field = "django.db.models.BigAutoField"
    name = "blog"
    verbose_name = "Blog"
