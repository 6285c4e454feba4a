"""A project's Celery app, as Celery's "First steps with Django" writes it.

The django-tasks-celery worker tests run ``celery -A celery_app worker``; the
autodiscovery below imports ``signalkit.tasks`` like every installed app's
``tasks`` module, which registers signalkit's task: nobody imports it by hand.
"""

from __future__ import annotations

from celery import Celery

app = Celery("signalkit_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
