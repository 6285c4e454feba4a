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
2. The outbox (a backend outside the database, sent inside a transaction):
   what it adds to a send (against the on-commit enqueue without it,
   ``SIGNALKIT_OUTBOX = False``), and the cost per send of 4,000 sends in one
   transaction against 500 (flat: at most 1.5x).
3. End-to-end latency with 2 workers per backend (``db_worker``, ``rqworker``,
   ``celery worker``): 20 sends one after the other, each timed from just
   before ``send()`` until the receiver noted it ran; median and worst.
4. Through the outbox to 2 workers, RQ and Celery: ``--outbox-sends N``
   (default 10,000) sends, each in a transaction of its own, as fast as the
   sender goes; sends per second, and p50/p99 latency from ``send()`` to the
   receiver.
"""

from __future__ import annotations

import argparse
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
from signalkit.tasks_framework import tasks_framework  # noqa: E402
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


def outbox_costs(user: User) -> None:
    """What the outbox adds to a send in a transaction, and that it stays flat."""
    from django.test import override_settings

    from signalkit.models import OutboxMessage

    backend = tasks_framework().task_backends["default"]
    arguments = {"sender": User, "user": user, "note": "published"}

    def one_send() -> None:
        with transaction.atomic():
            signals["default"].send(**arguments)

    with override_settings(SIGNALKIT_OUTBOX=False):
        on_commit = best_of({"on commit": one_send}, number=200)["on commit"]
    outbox = best_of({"outbox": one_send}, number=200)["outbox"]
    backend.clear()
    report(
        "send in atomic(), outbox / on-commit enqueue (dummy backend)",
        on_commit,
        outbox,
        "informational",
    )

    def per_send(count: int) -> float:
        best = float("inf")
        for _ in range(3):
            backend.clear()
            began = time.perf_counter()
            with transaction.atomic():
                for _ in range(count):
                    signals["default"].send(**arguments)
            best = min(best, (time.perf_counter() - began) / count)
        assert not OutboxMessage.objects.exists()
        backend.clear()
        return best

    small, large = per_send(500), per_send(4000)
    print(
        f"{'4,000 vs 500 sends in one transaction, per send':<58} "
        f"{large * 1e6:8.1f} µs vs {small * 1e6:6.1f} µs = {large / small:4.2f}x "
        f"(flat: <= 1.5x)"
    )


def outbox_throughput(backend: str, user: User, sends: int) -> None:
    """*sends* sends through the outbox to 2 workers; rate and p50/p99 latency."""
    workers = [
        start([sys.executable, *WORKERS[backend], *extra], ENV, f"{backend}-ob-{n}")
        for n, extra in enumerate(
            [[], []] if backend != "celery" else [["-n", "o1@%h"], ["-n", "o2@%h"]]
        )
    ]
    try:
        began: dict[str, float] = {}
        start_all = time.perf_counter()
        for number in range(sends):
            note = f"{backend}-outbox-{number}"
            began[note] = time.time()
            with transaction.atomic():
                signals[backend].send(sender=User, user=user, note=note)
        sending = time.perf_counter() - start_all
        deadline = time.monotonic() + 600
        while True:
            arrived = arrivals()
            if all(note in arrived for note in began) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            stop(worker)
    latencies = sorted(
        arrived[note] - at for note, at in began.items() if note in arrived
    )
    from signalkit.models import OutboxMessage

    print(
        f"outbox, {backend:<6} 2 workers, {sends} sends: {sends / sending:7.0f} sends/s, "
        f"latency p50 {statistics.median(latencies) * 1e3:7.1f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99) - 1] * 1e3:7.1f} ms; "
        f"{len(latencies)} arrived, {OutboxMessage.objects.count()} left in the outbox"
    )


def arrivals() -> dict[str, float]:
    if not LOG.exists():
        return {}
    found = {}
    for line in LOG.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line a worker is writing right now
        found[entry["note"]] = entry["at"]
    return found


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outbox-sends", type=int, default=10_000)
    options = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="alice")
    backends = ["default", "database", *(["rq", "celery"] if redis else [])]
    if not redis:
        print("(no redis-server or RQ/Celery stack: database backend only)")
    enqueue_costs(backends, user)
    outbox_costs(user)
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
    for backend in backends[2:]:
        outbox_throughput(backend, user, options.outbox_sends)


if __name__ == "__main__":
    try:
        main()
    finally:
        if redis:
            stop(redis[0])
        shutil.rmtree(SCRATCH, ignore_errors=True)
