"""Background receivers on Redis-backed Tasks backends, with real workers.

A throw-away ``redis-server`` (no persistence, a temporary directory, a free
port on 127.0.0.1) carries the tasks; web-like processes
(tests/tasks_scenarios.py) send, and real worker processes run them:

* RQ through django-tasks-rq: ``manage.py rqworker --job-class
  django_tasks_rq.Job`` (``--burst``: it exits when the queues are empty);
* Celery through django-tasks-fennel (``celery -A django_tasks_fennel.app
  worker``) and, on Django 6, django-tasks-celery (``celery -A celery_app
  worker``, a project's usual Celery app). Neither imports signalkit's task by
  hand: the worker's autodiscovery of each app's ``tasks`` module does.

All processes use tests/settings_redis.py and share one SQLite file. Without
redis-server these tests skip, unless ``SIGNALKIT_REQUIRE_REDIS=1``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest

from tasks_processes import Process, free_port, process_env, python, wait_for
from test_tasks_worker import PostgresServer, postgres  # noqa: F401  (a fixture)

pytestmark = pytest.mark.redis

# What each stack needs besides redis-server and the redis client.
STACKS = {
    "rq": ("django_rq", "django_tasks_rq"),
    "fennel": ("celery", "django_tasks_fennel"),
    "celery": ("celery", "django_tasks_celery"),
}
QUEUES = ("default", "audit")
# A killed sender or relay holds its outbox rows this long (seconds).
SHORT_CLAIMS = {"SIGNALKIT_OUTBOX_CLAIM_TIMEOUT": "1"}


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


def _unavailable(reason: str, *, required: bool) -> None:
    if required and os.environ.get("SIGNALKIT_REQUIRE_REDIS") == "1":
        pytest.fail(f"SIGNALKIT_REQUIRE_REDIS=1 but {reason}")
    pytest.skip(reason)


class RedisServer:
    """A redis-server with persistence off, in a temporary directory."""

    def __init__(self, binary: str) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="signalkit-redis-"))
        self.args = [
            binary,
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--save", "", "--appendonly", "no"),
            *("--daemonize", "no", "--protected-mode", "yes"),
        ]
        import redis

        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        self.up()

    def up(self) -> None:
        """Start the server (again, on the same port: a broker back up)."""
        self.process = Process(
            self.args, dict(os.environ), self.directory / "redis.log"
        )
        wait_for(self._answers, f"redis-server on port {self.port}", timeout=30)

    def down(self) -> None:
        """Stop the server: a broker outage."""
        self.process.stop()
        wait_for(lambda: not self._answers(), "redis-server to stop", timeout=30)

    def _answers(self) -> bool:
        import redis

        try:
            return bool(self.client.ping())
        except redis.ConnectionError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def waiting(self) -> int:
        """Messages waiting in any list (RQ's and Celery's queues are lists)."""
        return sum(
            int(self.client.llen(key))
            for key in self.client.scan_iter()
            if self.client.type(key) == b"list"
        )

    def unacknowledged(self) -> int:
        """Celery tasks handed to a worker and not yet acknowledged (kombu's
        Redis transport keeps them in this hash until the task returns)."""
        return int(self.client.hlen("unacked"))

    def stop(self) -> None:
        try:
            self.client.close()
            self.process.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server not found", required=True)
    if importlib.util.find_spec("redis") is None:
        _unavailable("the redis package is not installed", required=True)
    assert binary is not None
    server = RedisServer(binary)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, copied for each test."""
    path = tmp_path_factory.mktemp("redis-db") / "template.sqlite3"
    python({"SIGNALKIT_TASKS_DB": str(path)}, "-m", "django", "migrate", "-v0")
    return path


class Stack:
    """One backend on the shared Redis: sends, workers, what the receivers did."""

    def __init__(
        self, name: str, redis: RedisServer, database: Path, tmp_path: Path
    ) -> None:
        self.name = name
        self.redis = redis
        self.tmp_path = tmp_path
        self.log = tmp_path / "calls.jsonl"
        self.env = {
            "SIGNALKIT_REDIS_BACKEND": name,
            "SIGNALKIT_REDIS_URL": redis.url,
            "SIGNALKIT_TASKS_DB": str(database),
            "SIGNALKIT_TASKS_LOG": str(self.log),
        }
        self.workers: list[Process] = []

    @property
    def is_celery(self) -> bool:
        return self.name != "rq"

    def run_scenario(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return json.loads(
            python(
                {**self.env, **(env or {})},
                "-m",
                "tasks_scenarios",
                *args,
                settings="settings_redis",
            )
        )

    def run_killed(self, *args: str) -> None:
        """Run a scenario that SIGKILLs itself; check that it did."""
        done = subprocess.run(
            [sys.executable, "-m", "tasks_scenarios", *args],
            cwd=Path(__file__).parent,
            env=process_env("settings_redis", {**self.env, **SHORT_CLAIMS}),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr

    def relay_until_empty(self) -> None:
        """Run relays (their claims expire fast here) until the outbox is empty."""

        def empty() -> bool:
            self.run_scenario("relay", env=SHORT_CLAIMS)
            return bool(self.run_scenario("outbox-rows")["rows"] == 0)

        wait_for(empty, "an empty outbox")

    def worker_command(self, number: int, *, burst: bool) -> list[str]:
        if not self.is_celery:
            return [
                *(sys.executable, "-m", "django", "rqworker", *QUEUES),
                *(
                    "--job-class",
                    "django_tasks_rq.Job",
                    "--worker-class",
                    "rq_worker.Worker",
                ),
                *(["--burst"] if burst else []),
            ]
        app = "django_tasks_fennel.app" if self.name == "fennel" else "celery_app"
        return [
            *(sys.executable, "-m", "celery", "-A", app, "worker"),
            *("-Q", ",".join(QUEUES), "-c", "1", "-n", f"worker{number}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("-l", "INFO"),
        ]

    def start_workers(
        self, count: int, *, burst: bool = False, env: dict[str, str] | None = None
    ) -> list[Process]:
        started = [
            Process(
                self.worker_command(len(self.workers) + number, burst=burst),
                process_env("settings_redis", {**self.env, **(env or {})}),
                self.tmp_path / f"worker{len(self.workers) + number}.log",
            )
            for number in range(count)
        ]
        self.workers += started
        return started

    def run_workers(self, until: Any, what: str, *, count: int = 2) -> None:
        """Run *count* workers until the queue is done and *until()* holds."""
        if not self.is_celery:
            # Burst workers exit when the queues are empty.
            for worker in self.start_workers(count, burst=True):
                assert worker.wait() == 0, worker.output()
            assert until(), what
            return
        workers = self.start_workers(count)

        def done() -> bool:
            # Stopped while a task has not yet been acknowledged, a worker
            # hands it back (acks late, rejected when the worker is lost) and
            # the other worker runs it again: Celery's at-least-once.
            return bool(until()) and self.redis.unacknowledged() == 0

        try:
            wait_for(done, f"{what}, every task acknowledged")
        finally:
            for worker in workers:
                worker.stop()

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.kill()

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def result(self, task_id: str) -> dict[str, Any]:
        outcome: dict[str, Any] = self.run_scenario("result", task_id)
        return outcome

    def finished(self, task_id: str) -> bool:
        if not self.is_celery:
            return True
        # Celery's result backend keeps each task's state under this key.
        meta = self.redis.client.get(f"celery-task-meta-{task_id}")
        return meta is not None and json.loads(meta)["status"] in (
            "SUCCESS",
            "FAILURE",
        )


@pytest.fixture(params=list(STACKS))
def stack(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    sqlite_template: Path,
    tmp_path: Path,
) -> Iterator[Stack]:
    """A fresh database, an empty Redis and no worker yet, for one backend."""
    name = request.param
    missing = _missing(STACKS[name])
    if name == "celery" and django.VERSION < (6, 0):
        pytest.skip("django-tasks-celery needs Django 6.0+ (django.tasks)")
    if missing:
        _unavailable(f"{', '.join(missing)} not installed", required=True)
    redis_server.client.flushall()
    database = tmp_path / "queue.sqlite3"
    shutil.copyfile(sqlite_template, database)
    made = Stack(name, redis_server, database, tmp_path)
    yield made
    made.stop_workers()


# The stories, for each backend


def test_hundred_committed_sends_run_each_receiver_exactly_once_on_two_workers(
    stack: Stack,
) -> None:
    posts = stack.run_scenario("share-many", "100")["posts"]

    def all_ran() -> bool:
        return len(stack.calls()) >= 2 * len(posts)

    stack.run_workers(all_ran, "200 receiver calls")

    calls = stack.calls()
    shared = sorted(int(c["note"]) for c in calls if c["receiver"] == "share_post")
    audited = sorted(c["post"] for c in calls if c["receiver"] == "audit_share")
    assert shared == list(range(100))
    assert audited == sorted(posts)
    assert len(calls) == 200
    assert stack.redis.waiting() == 0


def test_rollback_enqueues_nothing(stack: Stack) -> None:
    stack.run_scenario("share-many", "3", "rollback")

    rolled_back = stack.redis.waiting(), stack.run_scenario("outbox-rows")["rows"]
    stack.run_scenario("share-many", "1", env=SHORT_CLAIMS)
    # Forwarded after COMMIT, or, when the sender's wait for the broker ran
    # out first (a loaded machine), by the relay.
    stack.relay_until_empty()

    assert rolled_back == (0, 0)
    # The same measure sees the committed send's two tasks.
    assert stack.redis.waiting() == 2


def test_receiver_that_raises_leaves_a_failed_result_with_its_traceback(
    stack: Stack,
) -> None:
    [task_id] = stack.run_scenario("request-report")["tasks"]

    stack.run_workers(lambda: stack.finished(task_id), "the failed task", count=1)

    result = stack.result(task_id)
    assert result["status"] == "FAILED"
    [error] = result["errors"]
    assert error["exception_class_path"] == "builtins.RuntimeError"
    assert (
        'raise RuntimeError(f"cannot build the {topic} report")' in error["traceback"]
    )
    assert "RuntimeError: cannot build the sales report" in error["traceback"]


def test_model_instances_are_fetched_again_in_the_worker(stack: Stack) -> None:
    post = stack.run_scenario("share-then-rename")["post"]

    stack.run_workers(lambda: len(stack.calls()) >= 2, "both receivers", count=1)

    [shared] = [c for c in stack.calls() if c["receiver"] == "share_post"]
    assert (shared["post"], shared["title"]) == (post, "Renamed after the send")


def started_and_finished(stack: Stack, key: str) -> list[str]:
    return [
        call["event"]
        for call in stack.calls()
        if call["receiver"] == "finish_on_second_attempt" and call["key"] == key
    ]


@pytest.mark.parametrize("stack", ["rq"], indirect=True)
def test_rq_worker_killed_mid_task_leaves_it_failed_as_abandoned_not_run_again(
    stack: Stack,
) -> None:
    [task_id] = stack.run_scenario("request-slow", "rq-kill")["tasks"]
    [worker] = stack.start_workers(1)
    wait_for(lambda: started_and_finished(stack, "rq-kill") == ["started"], "start")

    worker.kill()
    cleaned = stack.run_scenario("rq-clean-registries")
    stack.run_workers(lambda: True, "an empty queue", count=1)

    assert cleaned == {"abandoned": [task_id], "failed": [task_id]}
    result = stack.result(task_id)
    assert result["status"] == "FAILED"
    assert "AbandonedJobError" in result["errors"][0]["traceback"]
    # At most once: the receiver started once and never ran again.
    assert started_and_finished(stack, "rq-kill") == ["started"]


@pytest.mark.parametrize("stack", ["fennel", "celery"], indirect=True)
def test_celery_worker_killed_mid_task_leaves_it_to_run_again_acks_late(
    stack: Stack,
) -> None:
    # Redis hands an unacknowledged task out again after the visibility
    # timeout: an hour by default, a second here.
    soon = {"SIGNALKIT_VISIBILITY_TIMEOUT": "1"}
    [task_id] = stack.run_scenario("request-slow", "celery-kill")["tasks"]
    [worker] = stack.start_workers(1, env=soon)
    wait_for(lambda: started_and_finished(stack, "celery-kill") == ["started"], "start")

    worker.kill()
    [again] = stack.start_workers(1, env=soon)
    wait_for(lambda: stack.finished(task_id), "the task to run again")
    again.stop()

    # At least once: it started twice and finished once.
    assert started_and_finished(stack, "celery-kill") == [
        "started",
        "started",
        "finished",
    ]
    assert stack.result(task_id)["status"] == "SUCCESSFUL"


@pytest.mark.parametrize("stack", ["fennel", "celery"], indirect=True)
def test_celery_worker_registers_signalkits_task_by_autodiscovery(
    stack: Stack,
) -> None:
    app = "django_tasks_fennel.app" if stack.name == "fennel" else "celery_app"
    inspect = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import {app} as m; m.app.loader.import_default_modules(); print(sorted(m.app.tasks))",
        ],
        cwd=Path(__file__).parent,
        env=process_env("settings_redis", stack.env),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert inspect.returncode == 0, inspect.stderr
    name = "signalkit.tasks.run_receiver"
    expected = f"django_tasks:{name}" if stack.name == "fennel" else name
    assert expected in inspect.stdout


# The outbox: nothing is lost between COMMIT and the broker


def shared_calls(stack: Stack) -> dict[str, list[str | None]]:
    """share_post's calls: note -> the idempotency key of each call."""
    found: dict[str, list[str | None]] = {}
    for call in stack.calls():
        if call["receiver"] == "share_post":
            found.setdefault(call["note"], []).append(call["key"])
    return found


def test_broker_down_at_commit_loses_nothing_each_receiver_runs_once_after_the_relay(
    stack: Stack,
) -> None:
    stack.redis.down()
    try:
        # Enqueues that hang (Celery retries its publish) die with the
        # process; their rows go to the relay after the sender's short claim.
        posts = stack.run_scenario("share-many", "100", env=SHORT_CLAIMS)["posts"]
        left = stack.run_scenario("outbox-rows")["rows"]
    finally:
        stack.redis.up()
    waiting = stack.redis.waiting()

    stack.relay_until_empty()
    stack.run_workers(lambda: len(stack.calls()) >= 200, "200 receiver calls")

    assert (left, waiting) == (200, 0)
    calls = shared_calls(stack)
    assert sorted(map(int, calls)) == list(range(100))
    assert all(len(keys) == 1 and keys[0] for keys in calls.values())
    audited = sorted(c["post"] for c in stack.calls() if c["receiver"] == "audit_share")
    assert audited == sorted(posts)
    assert len(stack.calls()) == 200
    assert stack.run_scenario("outbox-rows") == {"rows": 0}


def test_sender_killed_after_commit_loses_nothing_and_a_rollback_never_runs(
    stack: Stack,
) -> None:
    stack.run_killed("share-then-die", "20")
    assert stack.redis.waiting() == 0  # killed before any forward

    stack.relay_until_empty()
    stack.run_workers(lambda: len(stack.calls()) >= 40, "40 receiver calls")

    calls = shared_calls(stack)
    assert sorted(map(int, calls)) == list(range(20))  # "rolled back" never ran
    assert len(stack.calls()) == 40


def test_relay_killed_mid_batch_loses_nothing_and_repeats_carry_the_same_key(
    stack: Stack,
) -> None:
    stack.run_killed("share-then-die", "10")
    stack.run_killed("relay-then-die", "8")  # after 8 enqueues, before deletes

    stack.relay_until_empty()
    stack.run_workers(lambda: len(stack.calls()) >= 28, "28 receiver calls")

    calls = shared_calls(stack)
    assert sorted(map(int, calls)) == list(range(10))
    # Every send ran; those of the killed batch may have run twice, under
    # one key each, which is how a receiver can tell a repeat.
    assert all(len(set(keys)) == 1 for keys in calls.values())
    assert len(stack.calls()) == 28


@pytest.mark.postgres
@pytest.mark.parametrize("stack", ["rq"], indirect=True)
def test_several_relays_at_once_on_postgresql_forward_each_row_once(
    stack: Stack,
    postgres: PostgresServer,  # noqa: F811  (the fixture imported above)
) -> None:
    dbname = "outbox_relays"
    with postgres.connect("postgres") as connection:
        connection.execute(f"CREATE DATABASE {dbname} TEMPLATE signalkit_template")
    stack.env.update(postgres.env(dbname))
    stack.run_killed("share-then-die", "30")
    with postgres.connect(dbname) as connection:  # the dead sender's claim is over
        connection.execute("UPDATE signalkit_outboxmessage SET claimed_until = NULL")
    relays = [
        Process(
            [sys.executable, "-m", "django", "signalkit_relay", "--batch-size", "3"],
            process_env("settings_redis", {**stack.env, **SHORT_CLAIMS}),
            stack.tmp_path / f"relay{number}.log",
        )
        for number in range(3)
    ]
    for relay in relays:
        assert relay.wait() == 0, relay.output()
    stack.relay_until_empty()
    stack.run_workers(lambda: len(stack.calls()) >= 60, "60 receiver calls")

    calls = shared_calls(stack)
    assert sorted(map(int, calls)) == list(range(30))
    assert len(stack.calls()) == 60  # SKIP LOCKED: no row went out twice
