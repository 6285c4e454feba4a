"""The task that workers run, and how each Tasks backend gets to know it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from signalkit import tasks
from signalkit.tasks import register_with_every_backend, run_receiver, task_for

TASKS_PACKAGE = type(run_receiver).__module__.rsplit(".", 1)[0]
DUMMY = f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"


def test_task_is_stored_under_the_path_workers_import() -> None:
    assert run_receiver.module_path == "signalkit.tasks.run_receiver"


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
