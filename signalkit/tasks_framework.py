"""Which Django Tasks framework is installed: ``django.tasks`` or the backport.

Importing this module imports neither; :func:`tasks_framework` does, when
asked, so that signalkit works without the Tasks framework installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from signalkit.exceptions import BackgroundReceiverError


def tasks_framework() -> ModuleType:
    """``django.tasks`` (Django 6.x), else the ``django_tasks`` backport."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise BackgroundReceiverError(
        "Background receivers need the Django Tasks framework: django.tasks "
        "(Django 6.0+) or, on Django 5.2, the django-tasks backport. Install "
        "django-signalkit[tasks] and configure TASKS."
    )
