"""Running the web-like processes and workers of the worker tests.

tests/test_tasks_worker.py (database queue) and tests/test_tasks_redis.py
(RQ and Celery) start real processes with settings of their own; this module
holds what both need.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import signalkit

TESTS = Path(__file__).resolve().parent
# The processes use the same signalkit as the tests (an installed wheel in tox).
PYTHONPATH = os.pathsep.join([str(TESTS), str(Path(signalkit.__file__).parents[1])])


def process_env(settings: str, env: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "PYTHONPATH": PYTHONPATH,
        **env,
    }


def python(env: dict[str, str], *args: str, settings: str = "settings_tasks") -> str:
    """Run ``python *args`` with the worker-test *settings*; return its stdout."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=TESTS,
        env=process_env(settings, env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll *condition* until it holds; fail naming *what* after *timeout* s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def descendants(pid: int) -> list[int]:
    """The processes descended from *pid*, read from /proc (Linux)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name (field 2) may hold spaces: split after it.
            fields = stat.read_text().rpartition(")")[2].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        frontier.extend(children)
    return found


class Process:
    """A long-running process in a session of its own, killed with it."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as output:
            self.popen = subprocess.Popen(
                args,
                cwd=TESTS,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.popen.args!r} did not finish:\n{self.output()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the process and its children, as a machine that dies.

        Children in a process group of their own (RQ's work horse calls
        setpgrp()) are found by their parent and killed too, so none
        outlives the test.
        """
        if self.popen.poll() is None:
            children = descendants(self.popen.pid)
            os.killpg(self.popen.pid, signal.SIGKILL)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        """Ask for a warm shutdown; kill after a while."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.popen.wait()
