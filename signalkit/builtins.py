"""Django's own signals, registered with their documented arguments."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import NamedTuple

from django.apps import apps
from django.dispatch import Signal as DjangoSignal

from signalkit.registry import registry


class Builtin(NamedTuple):
    module: str
    attribute: str
    args: Mapping[str, str]
    doc: str
    optional_args: Mapping[str, str] = {}


_MODEL = "The model class"
_INSTANCE = "The model instance"
_USING = "The database alias in use"
_MIGRATE = {
    "app_config": "The AppConfig of the app being migrated",
    "verbosity": "The migrate command's verbosity",
    "interactive": "Whether the user may be prompted",
    "using": _USING,
    "plan": "The migration plan",
    "apps": "The project state's app registry",
}

BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "django.db.models.signals",
        "pre_init",
        {"args": "Positional arguments to __init__()", "kwargs": "Keyword arguments"},
        f"Sent at the start of a model's __init__(); sender is {_MODEL.lower()}.",
    ),
    Builtin(
        "django.db.models.signals",
        "post_init",
        {"instance": "The newly created instance"},
        "Sent at the end of a model's __init__().",
    ),
    Builtin(
        "django.db.models.signals",
        "pre_save",
        {
            "instance": "The instance being saved",
            "raw": "True when saved as presented (loading a fixture)",
            "using": _USING,
            "update_fields": "The fields passed to save(), or None",
        },
        "Sent at the start of a model's save().",
    ),
    Builtin(
        "django.db.models.signals",
        "post_save",
        {
            "instance": "The instance saved",
            "created": "True if a new row was created",
            "raw": "True when saved as presented (loading a fixture)",
            "using": _USING,
            "update_fields": "The fields passed to save(), or None",
        },
        "Sent at the end of a model's save().",
    ),
    Builtin(
        "django.db.models.signals",
        "pre_delete",
        {
            "instance": "The instance being deleted",
            "using": _USING,
            "origin": "The model instance or queryset whose deletion began it",
        },
        "Sent at the start of a model's or a queryset's delete().",
    ),
    Builtin(
        "django.db.models.signals",
        "post_delete",
        {
            "instance": "The instance deleted",
            "using": _USING,
            "origin": "The model instance or queryset whose deletion began it",
        },
        "Sent at the end of a model's or a queryset's delete().",
    ),
    Builtin(
        "django.db.models.signals",
        "m2m_changed",
        {
            "action": "pre_add, post_add, pre_remove, post_remove, pre_clear or "
            "post_clear",
            "instance": "The instance whose many-to-many relation changes",
            "reverse": "Which side of the relation is modified",
            "model": "The class of the objects added, removed or cleared",
            "pk_set": "The primary keys involved (None for clears)",
            "using": _USING,
        },
        "Sent when a ManyToManyField changes; sender is the through model.",
    ),
    Builtin(
        "django.db.models.signals",
        "class_prepared",
        {},
        "Sent when a model class has been defined and registered.",
    ),
    Builtin(
        "django.db.models.signals",
        "pre_migrate",
        _MIGRATE,
        "Sent by migrate before it migrates each app.",
    ),
    Builtin(
        "django.db.models.signals",
        "post_migrate",
        _MIGRATE,
        "Sent by migrate and flush after they finish, once per app.",
        {"stdout": "The command's output stream"},
    ),
    Builtin(
        "django.core.signals",
        "request_started",
        {},
        "Sent when Django begins processing an HTTP request.",
        {"environ": "The WSGI environ", "scope": "The ASGI scope"},
    ),
    Builtin(
        "django.core.signals",
        "request_finished",
        {},
        "Sent when Django finishes delivering an HTTP response.",
    ),
    Builtin(
        "django.core.signals",
        "got_request_exception",
        {"request": "The HttpRequest being processed"},
        "Sent when Django meets an exception while processing a request.",
    ),
    Builtin(
        "django.core.signals",
        "setting_changed",
        {
            "setting": "The setting's name",
            "value": "Its new value (None when deleted)",
            "enter": "True when the override starts, False when it ends",
        },
        "Sent when a setting changes through override_settings and friends.",
    ),
    Builtin(
        "django.test.signals",
        "template_rendered",
        {"template": "The Template rendered", "context": "Its Context"},
        "Sent by the test system when a template is rendered.",
    ),
    Builtin(
        "django.db.backends.signals",
        "connection_created",
        {"connection": "The new database connection"},
        "Sent when a database connection is opened.",
    ),
    Builtin(
        "django.utils.autoreload",
        "autoreload_started",
        {},
        "Sent when runserver's autoreloader starts.",
    ),
    Builtin(
        "django.utils.autoreload",
        "file_changed",
        {"file_path": "The path of the file that changed"},
        "Sent when runserver's autoreloader sees a file change.",
    ),
    Builtin(
        "django.contrib.auth.signals",
        "user_logged_in",
        {"request": "The current HttpRequest", "user": "The user who logged in"},
        "Sent when a user logs in successfully.",
    ),
    Builtin(
        "django.contrib.auth.signals",
        "user_logged_out",
        {"request": "The current HttpRequest", "user": "The user, or None"},
        "Sent when a user logs out.",
    ),
    Builtin(
        "django.contrib.auth.signals",
        "user_login_failed",
        {
            "credentials": "The credentials given, with sensitive ones masked",
            "request": "The HttpRequest, or None",
        },
        "Sent when a user fails to log in.",
    ),
    Builtin(
        "django.tasks.signals",
        "task_enqueued",
        {"task_result": "The TaskResult of the enqueued task"},
        "Sent by a Tasks backend when it enqueues a task.",
    ),
    Builtin(
        "django.tasks.signals",
        "task_started",
        {"task_result": "The TaskResult of the task that starts"},
        "Sent by a Tasks backend when a task starts running.",
    ),
    Builtin(
        "django.tasks.signals",
        "task_finished",
        {"task_result": "The TaskResult of the finished task"},
        "Sent by a Tasks backend when a task finishes.",
    ),
)

# Modules of apps that may not be installed: their signals are registered only
# when the app is.
_APP_MODULES = {"django.contrib.auth.signals": "django.contrib.auth"}


def register_builtin_signals() -> None:
    """Register every built-in signal available in this Django and project."""
    for builtin in BUILTINS:
        app = _APP_MODULES.get(builtin.module)
        if app is not None and not apps.is_installed(app):
            continue
        try:
            module = import_module(builtin.module)
        except ImportError:  # django.tasks is new in Django 6.0.
            continue
        signal = getattr(module, builtin.attribute, None)
        if not isinstance(signal, DjangoSignal) or signal in registry:
            continue
        registry.register(
            signal,
            name=f"{builtin.module}.{builtin.attribute}",
            args=builtin.args,
            optional_args=builtin.optional_args,
            doc=builtin.doc,
            module=builtin.module,
            defined_at=getattr(module, "__file__", None),
            builtin=True,
        )
