"""The outbox: enqueues that cannot be lost, for backends outside the database.

A background receiver sent inside a transaction, whose Tasks backend keeps
its queue elsewhere (RQ, Celery, another database), gets a row of
:class:`~signalkit.models.OutboxMessage` written inside that transaction
(:func:`write`). After COMMIT, :func:`forward` hands the task to the backend,
waiting at most ``SIGNALKIT_OUTBOX_FORWARD_TIMEOUT`` seconds, and deletes the
row once the backend accepted it. Whatever is left (the broker was down, the
process died after COMMIT, an earlier on-commit callback raised) is forwarded
by :func:`relay` (``manage.py signalkit_relay``). Delivery is at least once:
every task carries the row's id as its idempotency key.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from signalkit.conf import conf
from signalkit.models import OutboxMessage

if TYPE_CHECKING:
    from django.tasks import Task

logger = logging.getLogger("signalkit.outbox")

# After a backend failed to take a task, this process leaves the tasks of
# that backend to the relay for a while, so that an outage costs each
# request one quick UPDATE, not a timeout per receiver.
BACKEND_PAUSE = 5.0
_paused_until: dict[str, float] = {}
# Per backend, the enqueues that outlasted the forward timeout, still running;
# past MAX_HANGING, rows go to the relay untried.
_hanging: dict[str, int] = {}
MAX_HANGING = 20
_lock = threading.Lock()


class _Forwarders:
    """A few daemon threads that run enqueues, so that a broker that hangs
    (Celery retries a publish for ~19 s by default) cannot hold the request
    past the forward timeout. Daemon threads: a process that exits does not
    wait for a hanging broker; the rows it leaves go to the relay."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._threads: list[threading.Thread] = []
        self._work: queue.SimpleQueue[
            tuple[concurrent.futures.Future[Any], Callable[[], Any]]
        ] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._work.put((future, call))
        with self._lock:
            if len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._run,
                    name=f"signalkit-outbox-{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        return future

    def _run(self) -> None:
        while True:
            future, call = self._work.get()
            future.set_running_or_notify_cancel()
            try:
                future.set_result(call())
            except BaseException as error:
                future.set_exception(error)


_forwarders = _Forwarders(4)


def write(
    task: Task[..., Any], payload: dict[str, Any], *, using: str | None
) -> OutboxMessage:
    """Write the row for one enqueue of *task*, inside the open transaction.

    The sending process holds the row for ``SIGNALKIT_OUTBOX_CLAIM_TIMEOUT``
    seconds: a relay takes it only once that has passed, or once the
    forward after COMMIT gave it up.
    """
    now = timezone.now()
    row = OutboxMessage(
        receiver=payload["receiver"],
        signal=payload["signal"],
        backend=task.backend,
        queue_name=task.queue_name,
        priority=task.priority,
        payload=payload,
        created_at=now,
        claimed_until=now + timedelta(seconds=conf.OUTBOX_CLAIM_TIMEOUT),
    )
    # bulk_create sends no pre_save/post_save: the outbox stays out of the
    # signals it carries. The row goes to the transaction's own database,
    # whatever a router says: it must commit or roll back with the data.
    OutboxMessage._default_manager.db_manager(using or DEFAULT_DB_ALIAS).bulk_create(
        [row]
    )
    return row


def forward(row: OutboxMessage, task: Task[..., Any], *, using: str | None) -> None:
    """Hand *row*'s task to its backend after COMMIT; delete the row if taken.

    Registered with ``transaction.on_commit``; never raises. A backend that
    fails leaves the row to the relay (with a warning), and so do the next
    forwards to it for :data:`BACKEND_PAUSE` seconds, untried. One that does
    not answer within ``SIGNALKIT_OUTBOX_FORWARD_TIMEOUT`` seconds is no
    longer waited for: the row is deleted if the backend takes the task
    later, else left to the relay; until it answers, the next forwards to it
    are not waited for either (up to :data:`MAX_HANGING` of them).
    """
    database = using or DEFAULT_DB_ALIAS
    hanging = _hanging.get(row.backend, 0)
    if time.monotonic() < _paused_until.get(row.backend, 0.0):
        _release(database, row, "not tried: the backend failed moments ago")
        return
    if hanging >= MAX_HANGING:
        _release(database, row, "not tried: the backend is not answering")
        return
    # The backend of this thread: Tasks backends, like database connections,
    # are one per thread (the dummy backend keeps its results there).
    backend = task.get_backend()
    context = contextvars.copy_context()
    payload = {**row.payload, "key": str(row.pk)}
    future = _forwarders.submit(lambda: context.run(backend.enqueue, task, [], payload))
    try:
        # While an earlier enqueue hangs, later ones are not waited for.
        future.result(timeout=0 if hanging else conf.OUTBOX_FORWARD_TIMEOUT)
    except concurrent.futures.TimeoutError:
        with _lock:
            _hanging[row.backend] = _hanging.get(row.backend, 0) + 1
        if not hanging:
            logger.warning(
                "Background receiver %s: Tasks backend %r did not answer within "
                "%s s (SIGNALKIT_OUTBOX_FORWARD_TIMEOUT); outbox row %s is "
                "deleted if it takes the task later, else left to manage.py "
                "signalkit_relay. Until it answers, forwards to it do not wait.",
                row.receiver,
                row.backend,
                conf.OUTBOX_FORWARD_TIMEOUT,
                row.pk,
            )
        future.add_done_callback(functools.partial(_finish_late, database, row))
    except Exception as error:
        _not_taken(database, row, error)
    else:
        _delete(database, [row.pk])


def _not_taken(database: str, row: OutboxMessage, error: BaseException) -> None:
    _paused_until[row.backend] = time.monotonic() + BACKEND_PAUSE
    _release(database, row, _describe(error), attempt=True)
    logger.warning(
        "Background receiver %s: Tasks backend %r did not take the task "
        "(%s); outbox row %s is left to manage.py signalkit_relay.",
        row.receiver,
        row.backend,
        _describe(error),
        row.pk,
    )


def _finish_late(
    database: str, row: OutboxMessage, future: concurrent.futures.Future[Any]
) -> None:
    """The end of an enqueue that outlasted the forward timeout.

    Runs in the forwarding thread, which keeps its database connection for
    the next time (there are at most a few such threads).
    """
    try:
        error = future.exception()
        if error is None:
            _delete(database, [row.pk])
        else:
            _not_taken(database, row, error)
    finally:
        with _lock:
            _hanging[row.backend] -= 1


def _enqueue(task: Task[..., Any], row: OutboxMessage) -> Any:
    return task.enqueue(**row.payload, key=str(row.pk))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _delete(database: str, keys: Iterable[uuid.UUID]) -> None:
    # A raw DELETE: no pre_delete/post_delete for the outbox's own rows.
    OutboxMessage._default_manager.using(database).filter(pk__in=keys)._raw_delete(
        database
    )


def _release(
    database: str, row: OutboxMessage, error: str, *, attempt: bool = False
) -> None:
    """Give *row* up to the relay at once, noting why."""
    changes: dict[str, Any] = {"claimed_until": None, "last_error": error}
    if attempt:
        changes["attempts"] = F("attempts") + 1
    OutboxMessage._default_manager.using(database).filter(pk=row.pk).update(**changes)


@dataclass
class RelayReport:
    """What one :func:`relay` run did."""

    forwarded: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def relay(
    *,
    using: str | None = None,
    batch_size: int = 100,
    limit: int | None = None,
) -> RelayReport:
    """Forward what the outbox of database *using* still holds; one try per row.

    Claims up to *batch_size* rows at a time (``SELECT ... FOR UPDATE SKIP
    LOCKED`` where the database has it, so several relays can run side by
    side), holds them for ``SIGNALKIT_OUTBOX_CLAIM_TIMEOUT`` seconds,
    enqueues each and deletes it. A row that fails counts an attempt and
    goes back to the outbox, or, after ``SIGNALKIT_OUTBOX_MAX_ATTEMPTS``,
    becomes a dead letter that no relay takes again (see the admin). Rows
    still held by a live sender or relay are left alone. Stops after *limit*
    rows, or when none is left; safe to call from a periodic task.
    """
    if batch_size < 1:
        raise ValueError(f"relay(): batch_size must be at least 1, not {batch_size}.")
    database = using or DEFAULT_DB_ALIAS
    report = RelayReport()
    tried: set[uuid.UUID] = set()
    tasks: dict[tuple[str, str, int | None], Task[..., Any]] = {}
    while limit is None or len(tried) < limit:
        size = batch_size if limit is None else min(batch_size, limit - len(tried))
        rows = _claim(database, size, exclude=tried)
        if not rows:
            break
        done: list[uuid.UUID] = []
        for row in rows:
            tried.add(row.pk)
            try:
                _enqueue(_task_of(row, tasks), row)
            except Exception as error:
                _fail(database, row, _describe(error), report)
            else:
                done.append(row.pk)
        _delete(database, done)
        report.forwarded += len(done)
    return report


def _task_of(
    row: OutboxMessage, made: dict[tuple[str, str, int | None], Task[..., Any]]
) -> Task[..., Any]:
    from signalkit.tasks import task_for

    key = (row.backend, row.queue_name, row.priority)
    if key not in made:
        made[key] = task_for(*key)
    return made[key]


def _claim(database: str, size: int, *, exclude: set[uuid.UUID]) -> list[OutboxMessage]:
    now = timezone.now()
    with transaction.atomic(using=database):
        free = (
            OutboxMessage._default_manager.using(database)
            .filter(dead_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .exclude(pk__in=exclude)
            .order_by("created_at")
            # Where the database can (PostgreSQL, MySQL 8), rows another
            # relay holds are skipped, not waited for; SQLite has no row
            # locks at all and ignores this.
            .select_for_update(
                skip_locked=connections[
                    database
                ].features.has_select_for_update_skip_locked
            )
        )
        rows = list(free[:size])
        OutboxMessage._default_manager.using(database).filter(
            pk__in=[row.pk for row in rows]
        ).update(claimed_until=now + timedelta(seconds=conf.OUTBOX_CLAIM_TIMEOUT))
    return rows


def _fail(database: str, row: OutboxMessage, error: str, report: RelayReport) -> None:
    attempts = row.attempts + 1
    dead = attempts >= conf.OUTBOX_MAX_ATTEMPTS
    OutboxMessage._default_manager.using(database).filter(pk=row.pk).update(
        attempts=attempts,
        last_error=error,
        claimed_until=None,
        dead_at=timezone.now() if dead else None,
    )
    report.failed += 1
    report.dead += dead
    report.errors.append(f"{row.receiver} ({row.pk}): {error}")
    logger.log(
        logging.ERROR if dead else logging.WARNING,
        "Outbox row %s for %s failed (attempt %d of %d): %s%s",
        row.pk,
        row.receiver,
        attempts,
        conf.OUTBOX_MAX_ATTEMPTS,
        error,
        "; it is a dead letter now" if dead else "",
    )


def dead_letters(using: str | None = None) -> list[OutboxMessage]:
    """The rows no relay will take again, oldest first."""
    return list(
        OutboxMessage._default_manager.using(using or DEFAULT_DB_ALIAS)
        .filter(dead_at__isnull=False)
        .order_by("created_at")
    )


def retry_dead_letters(using: str | None = None) -> int:
    """Put every dead letter back in the outbox with its attempts reset."""
    return (
        OutboxMessage._default_manager.using(using or DEFAULT_DB_ALIAS)
        .filter(dead_at__isnull=False)
        .update(dead_at=None, attempts=0, claimed_until=None)
    )


def outbox_report(using: str | None = None) -> str:
    """What the outbox of *using* holds, per receiver: ``manage.py signals
    --outbox``."""
    database = using or DEFAULT_DB_ALIAS
    counts = (
        OutboxMessage._default_manager.using(database)
        .values_list("receiver", "signal")
        .annotate(
            waiting=Count("pk", filter=Q(dead_at__isnull=True)),
            dead=Count("pk", filter=Q(dead_at__isnull=False)),
        )
        .order_by("receiver", "signal")
    )
    lines = [f"Outbox (database {database!r}):"]
    for receiver, signal, waiting, dead in counts:
        lines.append(f"  {receiver} ({signal}): {waiting} waiting, {dead} dead letters")
    if len(lines) == 1:
        lines.append("  empty")
    elif any(dead for *_, dead in counts):
        lines.append(
            "  Dead letters are not relayed again: see why in the admin "
            "(signalkit > outbox messages), fix it, then use its Retry action."
        )
    return "\n".join(lines)
