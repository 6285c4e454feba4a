"""What a background receiver costs, per Tasks backend: enqueueing and latency.

Run with ``python benchmarks/tasks.py``. Each signal of
benchmarks/tasks_receivers.py has one receiver: a plain one in-process, and a
background one on each backend: the dummy backend (signalkit's own cost:
checking and encoding the arguments, then ``Task.enqueue``), django-tasks-db's
database backend (one INSERT in a SQLite file; also inside a transaction, the
transactional outbox), and, when ``redis-server`` and the RQ/Celery stack
(requirements/redis.txt) are installed, RQ (django-tasks-rq) and Celery
(django-tasks-fennel) on a throw-away redis-server.

1. Enqueue cost: the sends run interleaved in one process; the ratios of
   their best times to the in-process send are printed. For the dummy
   backend, its own ``Task.enqueue`` and signalkit's encoding of the
   arguments are timed on their own: the rest of the send is signalkit's.
2. End-to-end latency with 2 workers per backend (``db_worker``, ``rqworker``,
   ``celery worker``): 20 sends one after the other, each timed from just
   before ``send()`` until the receiver noted it ran; median and worst.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="signalkit-bench-tasks-"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    log = (SCRATCH / f"{name}.log").open("w")
    return subprocess.Popen(
        args, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def redis_stack() -> tuple[subprocess.Popen[bytes], str] | None:
    """A redis-server on a free port, or None without redis-server or the stack."""
    import importlib.util

    binary = shutil.which("redis-server")
    needed = ("redis", "django_rq", "django_tasks_rq", "celery", "django_tasks_fennel")
    if binary is None or any(importlib.util.find_spec(m) is None for m in needed):
        return None
    port = free_port()
    server = start(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(SCRATCH)],
        dict(os.environ), "redis",
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(300):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    client.close()
    return server, f"redis://127.0.0.1:{port}/0"


redis = redis_stack()
LOG = SCRATCH / "arrivals.jsonl"
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "tasks_settings",
    "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
    "SIGNALKIT_BENCH_DB": str(SCRATCH / "db.sqlite3"),
    "SIGNALKIT_BENCH_LOG": str(LOG),
    **({"SIGNALKIT_BENCH_REDIS": redis[1]} if redis else {}),
}
os.environ.update(ENV)
sys.path.insert(0, str(HERE))

import django  # noqa: E402

django.setup()

from _setup import best_of, report  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from signalkit.task_payload import encode  # noqa: E402
from tasks_receivers import in_process, signals  # noqa: E402

WORKERS = {
    "database": [
        *("-m", "django", "db_worker", "--backend", "database"),
        *("--interval", "0.05", "--no-startup-delay"),
    ],
    "rq": ["-m", "django", "rqworker", "default", "--job-class", "django_tasks_rq.Job"],
    "celery": [
        *("-m", "celery", "-A", "django_tasks_fennel.app", "worker", "-Q", "default"),
        *("-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"),
    ],
}


def enqueue_costs(backends: list[str], user: User) -> None:
    arguments = {"sender": User, "user": user, "note": "published"}

    users = User.objects.filter(pk=user.pk)

    # A transaction that writes a row and sends: in-process, or with the
    # task written in it (the outbox: one more INSERT before the COMMIT).
    def in_transaction(backend: str) -> Any:
        def send() -> None:
            with transaction.atomic():
                users.update(last_login=None)
                signals[backend].send(**arguments)

        return send

    def plain_in_transaction() -> None:
        with transaction.atomic():
            users.update(last_login=None)
            in_process.send(**arguments)

    from signalkit.background import background_receivers

    [dummy] = [p for p in background_receivers() if p.path.endswith(".on_dummy")]
    dummy_task = dummy.task()
    payload = encode(dummy.path, signals["default"], User, {"user": user, "note": "x"})

    functions: dict[str, Any] = {
        "dummy Task.enqueue alone": lambda: dummy_task.enqueue(**payload),
        "in-process": lambda: in_process.send(**arguments),
        "in-process, in a transaction": plain_in_transaction,
        "encoding": lambda: encode(
            "tasks_receivers.on_dummy",
            signals["default"],
            User,
            {"user": user, "note": "published"},
        ),
        **{
            backend: (lambda b=backend: signals[b].send(**arguments))
            for backend in backends
        },
        "database, in a transaction": in_transaction("database"),
    }
    times = best_of(functions, number=100)
    base = times["in-process"]
    names = {"default": "dummy"}
    for backend in backends:
        title = f"enqueue, {names.get(backend, backend)} backend / in-process send"
        report(title, base, times[backend], "informational")
    report(
        "  of which the dummy backend's Task.enqueue",
        base,
        times["dummy Task.enqueue alone"],
        "informational",
    )
    report(
        "  of which signalkit's encoding of the arguments",
        base,
        times["encoding"],
        "informational",
    )
    report(
        "outbox: write + send in atomic() / in-process",
        times["in-process, in a transaction"],
        times["database, in a transaction"],
        "informational",
    )


def arrivals() -> dict[str, float]:
    if not LOG.exists():
        return {}
    return {
        entry["note"]: entry["at"]
        for entry in map(json.loads, LOG.read_text().splitlines())
    }


def wait_for(note: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = arrivals().get(note)
        if found is not None:
            return found
        time.sleep(0.001)
    raise RuntimeError(f"{note} never arrived; see the worker logs in {SCRATCH}")


def latency(backend: str, user: User, sends: int = 20) -> list[float]:
    workers = [
        start([sys.executable, *WORKERS[backend], *extra], ENV, f"{backend}-{n}")
        for n, extra in enumerate(
            [[], []] if backend != "celery" else [["-n", "one@%h"], ["-n", "two@%h"]]
        )
    ]
    try:
        signals[backend].send(sender=User, user=user, note=f"{backend}-warm-up")
        wait_for(f"{backend}-warm-up")
        seconds = []
        for number in range(sends):
            note = f"{backend}-{number}"
            began = time.time()
            signals[backend].send(sender=User, user=user, note=note)
            seconds.append(wait_for(note) - began)
        return seconds
    finally:
        for worker in workers:
            stop(worker)


def main() -> None:
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="alice")
    backends = ["default", "database", *(["rq", "celery"] if redis else [])]
    if not redis:
        print("(no redis-server or RQ/Celery stack: database backend only)")
    enqueue_costs(backends, user)
    # The workers below should not first work through what was just timed.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    if redis:
        import redis as redis_client

        redis_client.Redis.from_url(redis[1]).flushall()
    for backend in backends[1:]:
        seconds = latency(backend, user)
        print(
            f"end-to-end latency, {backend:<8} 2 workers: median "
            f"{statistics.median(seconds) * 1e3:6.1f} ms, worst "
            f"{max(seconds) * 1e3:6.1f} ms ({len(seconds)} sends)"
        )


if __name__ == "__main__":
    try:
        main()
    finally:
        if redis:
            stop(redis[0])
        shutil.rmtree(SCRATCH, ignore_errors=True)
