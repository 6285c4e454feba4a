"""The task that workers run, and how each Tasks backend gets to know it."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string

from signalkit import tasks
from signalkit.tasks import module_task, register_with_every_backend, task_for
from tasks_processes import python

# What a worker finds at the path stored with each task.
run_receiver: Any = import_string("signalkit.tasks.run_receiver")
TASKS_PACKAGE = type(run_receiver).__module__.rsplit(".", 1)[0]
DUMMY = f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"


def test_task_is_stored_under_the_path_workers_import() -> None:
    assert run_receiver.module_path == "signalkit.tasks.run_receiver"
    assert (run_receiver.backend, run_receiver.queue_name) == ("default", "default")


@override_settings(SIGNALKIT_TASKS_BACKEND="nowhere")
def test_module_task_falls_back_to_a_usable_backend() -> None:
    # Workers rebind it to the backend stored with each job: any will do.
    made = module_task()

    assert made is not None
    assert made.backend == "default"
    assert made.func is run_receiver.func


@override_settings(SIGNALKIT_TASKS_QUEUE_NAME="not-a-queue")
def test_module_task_takes_a_queue_its_backend_has() -> None:
    made = module_task()

    assert made is not None
    assert made.queue_name in {"default", "audit"}


@override_settings(SIGNALKIT_TASKS_BACKEND="nowhere", TASKS={})
def test_no_module_task_when_no_backend_is_usable() -> None:
    assert module_task() is None


def test_no_module_task_and_nothing_registered_without_the_tasks_framework(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    assert module_task() is None
    assert register_with_every_backend() == []


IMPORT_AS_CELERY_DOES = """
import sys
import django

django.setup()
from django.conf import settings

{arrange}
import signalkit.tasks

print(type(signalkit.tasks.run_receiver).__name__)
"""


@pytest.mark.parametrize(
    "arrange",
    [
        "settings.SIGNALKIT_TASKS_BACKEND = 'nowhere'; settings.TASKS = {}",
        "sys.modules['django.tasks'] = sys.modules['django_tasks'] = None",
    ],
    ids=["unconfigured-backend", "no-tasks-framework"],
)
def test_importing_the_tasks_module_never_fails(arrange: str) -> None:
    # A Celery worker imports every installed app's tasks module at start-up.
    out = python({}, "-c", IMPORT_AS_CELERY_DOES.format(arrange=arrange))

    assert out.strip() == "function"


def test_task_for_the_default_backend_takes_the_queue_and_priority() -> None:
    made = task_for("default", "audit", 5)

    assert (made.backend, made.queue_name, made.priority) == ("default", "audit", 5)
    assert made.func is run_receiver.func


def test_task_for_another_backend_is_made_by_that_backends_task_class() -> None:
    made = task_for("database", "default", None)

    assert made.backend == "database"
    assert made.module_path == "signalkit.tasks.run_receiver"
    assert made.priority == run_receiver.priority


def test_every_configured_backend_gets_the_task() -> None:
    assert register_with_every_backend() == ["default", "database", "immediate"]


@override_settings(
    TASKS={
        "default": {"BACKEND": DUMMY, "QUEUES": ["default"]},
        "broken": {"BACKEND": "no.such.Backend"},
        "mail_only": {"BACKEND": DUMMY, "QUEUES": ["mail", "bulk"]},
        "any_queue": {"BACKEND": DUMMY, "QUEUES": []},
    }
)
def test_unloadable_backends_are_left_out_and_queues_are_picked_per_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[tuple[str, str]] = []
    real_task_for = tasks.task_for

    def noting_task_for(backend: str, queue_name: str, priority: int | None) -> object:
        made.append((backend, queue_name))
        return real_task_for(backend, queue_name, priority)

    monkeypatch.setattr(tasks, "task_for", noting_task_for)

    assert register_with_every_backend() == ["default", "mail_only", "any_queue"]
    assert made == [
        ("default", "default"),
        ("mail_only", "bulk"),
        ("any_queue", "default"),
    ]
