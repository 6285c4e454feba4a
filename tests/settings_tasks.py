"""tests/settings.py with django-tasks-db's database queue, for worker tests.

tests/test_tasks_worker.py runs web-like processes and ``db_worker`` with these
settings; they share the database named by the environment:
``SIGNALKIT_TASKS_DB`` (a SQLite file) or ``SIGNALKIT_TASKS_PG`` (a PostgreSQL
``host:port:dbname``).
"""

from __future__ import annotations

import os

from settings import *  # noqa: F403

if os.environ.get("SIGNALKIT_TASKS_PG"):
    _host, _port, _name = os.environ["SIGNALKIT_TASKS_PG"].split(":")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": _host,
            "PORT": _port,
            "NAME": _name,
            "USER": "postgres",
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SIGNALKIT_TASKS_DB", "tasks.sqlite3"),
        }
    }

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "audit"],
    }
}
