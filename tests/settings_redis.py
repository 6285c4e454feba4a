"""tests/settings_tasks.py with a Redis-backed Tasks backend, for worker tests.

tests/test_tasks_redis.py runs web-like processes and real workers with these
settings. The environment chooses: ``SIGNALKIT_REDIS_URL`` (the server the
test started), ``SIGNALKIT_REDIS_BACKEND`` (``rq``, ``fennel`` or
``celery``) and ``SIGNALKIT_TASKS_DB`` (the SQLite file they share).
"""

from __future__ import annotations

import os
from typing import Any

from settings_tasks import *  # noqa: F403
from settings_tasks import INSTALLED_APPS

REDIS_URL = os.environ.get("SIGNALKIT_REDIS_URL", "redis://127.0.0.1:6379/0")
_BACKEND = os.environ.get("SIGNALKIT_REDIS_BACKEND", "rq")
_QUEUES = ["default", "audit"]
# django-tasks-celery finds the project's Celery app here.
_CELERY_OPTIONS: Any = {"CELERY_APP": "celery_app.app"}

# The outbox tests kill senders: their rows go to a relay after this.
SIGNALKIT_OUTBOX_CLAIM_TIMEOUT = float(
    os.environ.get("SIGNALKIT_OUTBOX_CLAIM_TIMEOUT", "60")
)

if _BACKEND == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]
    RQ_QUEUES = {name: {"URL": REDIS_URL} for name in _QUEUES}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": _QUEUES}}
else:
    if _BACKEND == "fennel":
        INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_fennel"]
        TASKS = {
            "default": {
                "BACKEND": "django_tasks_fennel.CeleryBackend",
                "QUEUES": _QUEUES,
            }
        }
    else:
        TASKS = {
            "default": {
                "BACKEND": "django_tasks_celery.CeleryBackend",
                "QUEUES": _QUEUES,
                "OPTIONS": _CELERY_OPTIONS,
            }
        }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_EXTENDED = True
    CELERY_TASK_DEFAULT_QUEUE = "default"
    # At-least-once: a task is acknowledged when it has run, so a worker that
    # dies in the middle leaves it to be delivered again...
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    # ... once the visibility timeout has passed (Redis has no real acks; the
    # default is an hour, which would outlast the test).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(
            os.environ.get("SIGNALKIT_VISIBILITY_TIMEOUT", "3600")
        ),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
