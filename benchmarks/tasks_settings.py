"""Settings of benchmarks/tasks.py and of the workers it starts.

The environment names the SQLite file they share (``SIGNALKIT_BENCH_DB``) and,
when a redis-server is running for the benchmark, its URL
(``SIGNALKIT_BENCH_REDIS``): then RQ (django-tasks-rq) and Celery
(django-tasks-fennel) backends are configured too.
"""

from __future__ import annotations

import os
from typing import Any

import django

SECRET_KEY = "signalkit-benchmarks"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
_TASKS_PACKAGE = "django_tasks" if django.VERSION < (6, 0) else "django.tasks"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    *(["django_tasks"] if django.VERSION < (6, 0) else []),
    "django_tasks_db",
    "signalkit",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SIGNALKIT_BENCH_DB", ":memory:"),
        # Two workers and the sender share the file.
        "OPTIONS": {"timeout": 30},
    }
}
TASKS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.dummy.DummyBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

REDIS_URL = os.environ.get("SIGNALKIT_BENCH_REDIS")
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq", "django_tasks_fennel"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS["rq"] = {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    TASKS["celery"] = {
        "BACKEND": "django_tasks_fennel.CeleryBackend",
        "QUEUES": ["default"],
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ACKS_LATE = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
