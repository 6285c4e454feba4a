"""Background receivers with a real queue and a real worker, in separate processes.

A web-like process (tests/tasks_scenarios.py) sends signals with
django-tasks-db's database backend; ``manage.py db_worker --batch`` then runs
the queue until it is empty. Both use tests/settings_tasks.py and share one
database: a SQLite file, or a throw-away PostgreSQL server.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks_processes import Process, free_port, process_env, python, wait_for

TABLE = "django_tasks_database_dbtaskresult"


class QueueDatabase:
    """One database that the test, the sending process and the worker share."""

    def __init__(self, env: dict[str, str], connect: Any, log: Path) -> None:
        self.env = {**env, "SIGNALKIT_TASKS_LOG": str(log)}
        self._connect = connect
        self._log = log

    def run_scenario(self, *args: str) -> Any:
        return json.loads(python(self.env, "-m", "tasks_scenarios", *args))

    def run_worker(self) -> None:
        python(
            self.env,
            *("-m", "django", "db_worker", "--batch", "--no-startup-delay"),
            *("--queue-name", "*"),
        )

    def tasks(self) -> list[dict[str, Any]]:
        """Every task in the queue."""
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(
                f"SELECT args_kwargs, status, queue_name, priority, return_value, "
                f"exception_class_path, traceback FROM {TABLE} "
                f"ORDER BY enqueued_at"
            )
            rows = cursor.fetchall()
        finally:
            connection.close()
        return [
            {
                "receiver": _json(row[0])["kwargs"]["receiver"],
                "status": row[1],
                "queue_name": row[2],
                "priority": row[3],
                "return_value": _json(row[4]),
                "exception_class_path": row[5],
                "traceback": row[6],
            }
            for row in rows
        ]

    def calls(self) -> list[dict[str, Any]]:
        """What the receivers did in the worker, as they noted it."""
        if not self._log.exists():
            return []
        return [json.loads(line) for line in self._log.read_text().splitlines()]


def _json(value: Any) -> Any:
    # SQLite hands back JSON columns as text, PostgreSQL as Python objects.
    return json.loads(value) if isinstance(value, str) else value


# SQLite


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, copied for each test."""
    path = tmp_path_factory.mktemp("queue") / "template.sqlite3"
    python({"SIGNALKIT_TASKS_DB": str(path)}, "-m", "django", "migrate", "-v0")
    return path


def sqlite_queue(template: Path, tmp_path: Path) -> QueueDatabase:
    path = tmp_path / "queue.sqlite3"
    shutil.copyfile(template, path)
    return QueueDatabase(
        {"SIGNALKIT_TASKS_DB": str(path)},
        lambda: sqlite3.connect(path),
        tmp_path / "calls.jsonl",
    )


# PostgreSQL


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throw-away PostgreSQL server in a temporary directory."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="signalkit-postgres-"))
        # PostgreSQL refuses to run as root: run it as an unprivileged user.
        self.user = "postgres" if os.getuid() == 0 else None
        if self.user:
            shutil.chown(self.directory, self.user)

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        data = str(self.directory / "data")
        self._run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", data, "-o", options, "-l", f"{data}.log", "-w", "start"
        )

    def stop(self) -> None:
        try:
            self._run(
                "pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def connect(self, dbname: str) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
        )

    def env(self, dbname: str) -> dict[str, str]:
        return {"SIGNALKIT_TASKS_PG": f"127.0.0.1:{self.port}:{dbname}"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A running server with a migrated template database, ``signalkit_template``."""
    bin_dir = _postgres_bin()
    missing = [
        *(["PostgreSQL binaries (initdb, pg_ctl)"] if bin_dir is None else []),
        *([] if importlib.util.find_spec("psycopg") else ["psycopg"]),
    ]
    if missing:
        reason = f"{' and '.join(missing)} not found"
        if os.environ.get("SIGNALKIT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SIGNALKIT_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    server.start()
    try:
        with server.connect("postgres") as connection:
            connection.execute("CREATE DATABASE signalkit_template")
        python(server.env("signalkit_template"), "-m", "django", "migrate", "-v0")
        yield server
    finally:
        server.stop()


def postgres_queue(server: PostgresServer, tmp_path: Path) -> QueueDatabase:
    dbname = f"queue_{uuid.uuid4().hex}"
    with server.connect("postgres") as connection:
        connection.execute(f"CREATE DATABASE {dbname} TEMPLATE signalkit_template")
    return QueueDatabase(
        server.env(dbname), lambda: server.connect(dbname), tmp_path / "calls.jsonl"
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue_db(request: pytest.FixtureRequest, tmp_path: Path) -> QueueDatabase:
    """A fresh, migrated database with an empty task queue."""
    if request.param == "sqlite":
        return sqlite_queue(request.getfixturevalue("sqlite_template"), tmp_path)
    return postgres_queue(request.getfixturevalue("postgres"), tmp_path)


# The stories


def test_commit_enqueues_one_task_per_background_receiver_and_the_worker_runs_it(
    queue_db: QueueDatabase,
) -> None:
    sent = queue_db.run_scenario("commit")

    # The queue is in the sending transaction's database: written inside it.
    assert [response.split()[:2] for response in sent["responses"]] == [
        ["<Enqueued", "task"],
        ["<Enqueued", "task"],
    ]
    assert sorted((task["receiver"], task["status"]) for task in queue_db.tasks()) == [
        ("tasks_receivers.audit_publication", "READY"),
        ("tasks_receivers.index_comment", "READY"),
        ("tasks_receivers.notify_followers", "READY"),
    ]

    queue_db.run_worker()

    assert {task["status"] for task in queue_db.tasks()} == {"SUCCESSFUL"}
    calls = sorted(queue_db.calls(), key=lambda call: str(call["receiver"]))
    assert calls == [
        {"receiver": "audit_publication", "post": sent["post"]},
        {
            "receiver": "index_comment",
            "sender": "testapp.Comment",
            "comment": calls[1]["comment"],
            "body": "Nice",
            "created": True,
            "update_fields": [],
        },
        {
            "receiver": "notify_followers",
            "sender": "testapp.Post",
            "post": sent["post"],
            "title": "Hello",
            "note": "first post",
            "signal": True,
        },
    ]


def test_task_options_reach_the_queue(queue_db: QueueDatabase) -> None:
    queue_db.run_scenario("commit")

    options = {
        task["receiver"]: (task["queue_name"], task["priority"])
        for task in queue_db.tasks()
    }

    assert options["tasks_receivers.audit_publication"] == ("audit", 5)
    assert options["tasks_receivers.notify_followers"] == ("default", 0)


def test_rollback_enqueues_nothing(queue_db: QueueDatabase) -> None:
    queue_db.run_scenario("rollback")

    assert queue_db.tasks() == []


def test_failing_earlier_on_commit_callback_loses_no_task(
    queue_db: QueueDatabase,
) -> None:
    sent = queue_db.run_scenario("failing-callback")

    queue_db.run_worker()

    assert sent["error"] == "an earlier on-commit callback failed"
    assert sorted((task["receiver"], task["status"]) for task in queue_db.tasks()) == [
        ("tasks_receivers.audit_publication", "SUCCESSFUL"),
        ("tasks_receivers.notify_followers", "SUCCESSFUL"),
    ]
    assert sorted(call["receiver"] for call in queue_db.calls()) == [
        "audit_publication",
        "notify_followers",
    ]


def test_rolled_back_savepoint_leaves_no_task_in_a_committed_transaction(
    queue_db: QueueDatabase,
) -> None:
    queue_db.run_scenario("savepoint-rollback")

    queue_db.run_worker()

    assert [
        (call["receiver"], call["note"])
        for call in queue_db.calls()
        if call["receiver"] == "notify_followers"
    ] == [("notify_followers", "kept")]
    assert len(queue_db.tasks()) == 2


def test_receiver_that_raises_leaves_a_failed_task_with_its_traceback(
    queue_db: QueueDatabase,
) -> None:
    queue_db.run_scenario("request-report")

    queue_db.run_worker()

    [task] = queue_db.tasks()
    assert (task["receiver"], task["status"], task["exception_class_path"]) == (
        "tasks_receivers.build_report",
        "FAILED",
        "builtins.RuntimeError",
    )
    assert (
        'in build_report\n    raise RuntimeError(f"cannot build the {topic} report")'
        in (task["traceback"])
    )
    assert task["traceback"].endswith("RuntimeError: cannot build the sales report\n")


def test_instance_deleted_before_the_worker_runs_is_skipped_not_retried(
    queue_db: QueueDatabase,
) -> None:
    post = queue_db.run_scenario("publish-then-delete")["post"]

    queue_db.run_worker()

    skipped = {task["receiver"]: task for task in queue_db.tasks()}
    assert {task["status"] for task in skipped.values()} == {"SUCCESSFUL"}
    assert skipped["tasks_receivers.notify_followers"]["return_value"] == {
        "skipped": "tasks_receivers.post_published -> tasks_receivers.notify_followers "
        f"skipped: argument 'post': testapp.Post with pk {post} no longer exists"
    }
    assert queue_db.calls() == []


def test_worker_killed_mid_task_leaves_it_running_and_never_runs_it_again(
    queue_db: QueueDatabase, tmp_path: Path
) -> None:
    queue_db.run_scenario("request-slow", "db-kill")
    worker = Process(
        [sys.executable, "-m", "django", "db_worker", "--queue-name", "*"],
        process_env("settings_tasks", queue_db.env),
        tmp_path / "worker.log",
    )

    def events() -> list[str]:
        return [
            call["event"] for call in queue_db.calls() if call.get("key") == "db-kill"
        ]

    try:
        wait_for(lambda: events() == ["started"], "the task to start")
    finally:
        worker.kill()
    queue_db.run_worker()

    # At most once: the row stays RUNNING and no worker takes it again.
    assert [task["status"] for task in queue_db.tasks()] == ["RUNNING"]
    assert events() == ["started"]


def test_capture_on_commit_callbacks_runs_exactly_the_enqueue(
    queue_db: QueueDatabase,
) -> None:
    captured = queue_db.run_scenario("capture-on-commit")

    assert captured == {
        "callbacks": [
            "forward of background receiver tasks_receivers.audit_share",
            "forward of background receiver tasks_receivers.share_post",
        ],
        "enqueued": ["tasks_receivers.audit_share", "tasks_receivers.share_post"],
        "earlier": [],
    }
