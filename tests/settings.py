from __future__ import annotations

import django

SECRET_KEY = "signalkit-tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "debug_toolbar",
    "signalkit",
    "testapp",
]

MIDDLEWARE = [
    # Inactive unless a test turns DEBUG on (see tests/test_panel.py).
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "testapp.urls"

# The debug toolbar shows for requests from here when a test turns DEBUG on.
INTERNAL_IPS = ["127.0.0.1"]
# The toolbar creates its DatabaseStore table only when that store is
# configured at start-up; tests/test_panel.py uses the MemoryStore otherwise.
DEBUG_TOOLBAR_CONFIG = {"TOOLBAR_STORE_CLASS": "debug_toolbar.store.DatabaseStore"}

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Background receivers: django.tasks is built in from Django 6.0; on 5.2 the
# django-tasks backport provides it (and is an app of its own).
if django.VERSION < (6, 0):
    INSTALLED_APPS += ["django_tasks"]
    _TASKS_PACKAGE = "django_tasks"
else:
    _TASKS_PACKAGE = "django.tasks"

# django-tasks-db's queue lives in the test database (see "database" below).
INSTALLED_APPS += ["django_tasks_db"]

TASKS = {
    "default": {
        "BACKEND": f"{_TASKS_PACKAGE}.backends.dummy.DummyBackend",
        "QUEUES": ["default", "audit"],
    },
    "database": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "audit"],
    },
    "immediate": {
        "BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "audit"],
    },
}
