"""What a background receiver costs the sender: enqueueing vs running in-process.

Run with ``python benchmarks/tasks.py``. One signal has a plain receiver that
does nothing; two others have one background receiver each, enqueued on the
dummy Tasks backend (signalkit's own cost: checking and encoding the
arguments, then ``Task.enqueue``) and on django-tasks-db's database backend
(SQLite in memory: one INSERT per task); signalkit's share, encoding the
arguments, is timed on its own. The sends run interleaved in one process and
the ratios of their best times to the in-process send are printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).parent))

from _setup import best_of, report

TASKS_PACKAGE = "django_tasks" if django.VERSION < (6, 0) else "django.tasks"

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        *(["django_tasks"] if django.VERSION < (6, 0) else []),
        "django_tasks_db",
        "signalkit",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TASKS={
        "default": {"BACKEND": f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"},
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    },
    USE_TZ=True,
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from signalkit import Signal, receiver  # noqa: E402
from signalkit.receivers import receiver_infos  # noqa: E402

in_process = Signal(name="benchmarks.in_process", args=["user", "note"])
to_dummy = Signal(name="benchmarks.to_dummy", args=["user", "note"])
to_database = Signal(name="benchmarks.to_database", args=["user", "note"])


@receiver(in_process)
def plain(sender: Any, **kwargs: Any) -> None:
    pass


@receiver(to_dummy, background=True)
def on_dummy_backend(sender: Any, **kwargs: Any) -> None:
    pass


@receiver(to_database, background=True, backend="database")
def on_database_backend(sender: Any, **kwargs: Any) -> None:
    pass


def main() -> None:
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="alice")
    arguments = {"sender": User, "user": user, "note": "published"}
    [info] = receiver_infos(to_dummy)
    proxy: Any = info.receiver
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    times = best_of(
        {
            "in-process": lambda: in_process.send(**arguments),
            "dummy": lambda: to_dummy.send(**arguments),
            "database": lambda: to_database.send(**arguments),
            "encoding": lambda: proxy.payload(
                to_dummy, User, {"user": user, "note": "published"}
            ),
        },
        number=500,
    )
    report(
        "background receiver, dummy backend / in-process",
        times["in-process"],
        times["dummy"],
        "informational",
    )
    report(
        "  of which signalkit's encoding of the arguments",
        times["in-process"],
        times["encoding"],
        "informational",
    )
    report(
        "background receiver, database backend / in-process",
        times["in-process"],
        times["database"],
        "informational",
    )


if __name__ == "__main__":
    main()
