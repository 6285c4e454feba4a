"""Settings for the signalkit example project.

A development-only site: DEBUG is on, the database is SQLite next to
``manage.py`` and e-mail is printed on the console.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import django_stubs_ext
from debug_toolbar.settings import PANELS_DEFAULTS

# Lets ModelAdmin[Post] and friends (written for mypy --strict) run at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

# Development only: never deploy this project.
SECRET_KEY = "django-insecure-signalkit-example-project-not-for-production"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INTERNAL_IPS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "debug_toolbar",
    # The database queue of background receivers (run by manage.py db_worker).
    "django_tasks_db",
    # signalkit's AppConfig.ready() imports every installed app's signals.py,
    # so accounts/signals.py and blog/signals.py need no ready() hook.
    "signalkit",
    "accounts",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The toolbar must come after middleware that encodes the response
    # (there is none here) and as early as possible otherwise.
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"
ASGI_APPLICATION = "example.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "signalkit-example",
    }
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, Any]] = []

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "blog:home"
LOGOUT_REDIRECT_URL = "blog:home"

# Welcome mails and follower notifications are printed by runserver.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "signalkit example <noreply@example.com>"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The toolbar's own default panels, with signalkit's in place of its
# SignalsPanel: derived rather than copied, so that panels a newer toolbar adds
# by default (TasksPanel and CommunityPanel in 8.x) are not lost.
# docs/panel.rst includes the lines between the markers.
# [panels-start]

DEBUG_TOOLBAR_PANELS = [
    "signalkit.panels.SignalkitPanel"
    if panel == "debug_toolbar.panels.signals.SignalsPanel"
    else panel
    for panel in PANELS_DEFAULTS
]
# [panels-end]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "simple": {"format": "{levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "simple"},
    },
    "loggers": {
        "accounts": {"handlers": ["console"], "level": "INFO"},
        "blog": {"handlers": ["console"], "level": "INFO"},
    },
}

# Background receivers (blog.signals.announce_post) go to the database queue;
# `python manage.py db_worker` runs them. The queue is in the same database as
# the posts, so a publish writes its task inside its own transaction: it
# commits or rolls back with the post. Django 5.2 needs the django-tasks
# backport; Django 6.x has django.tasks built in.
if django.VERSION < (6, 0):
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django_tasks_db"), "django_tasks")
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
