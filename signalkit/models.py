"""signalkit's one model: the outbox of background-receiver enqueues.

A row is one task that a send inside a transaction will enqueue on a Tasks
backend outside the sending database (RQ, Celery, another database). It is
written inside the sender's transaction, so it commits or rolls back with the
data; it is deleted once the backend has accepted the task. What is left
(a broker that was down, a process that died after COMMIT) is forwarded by
``manage.py signalkit_relay`` (:mod:`signalkit.outbox`).
"""

from __future__ import annotations

import uuid

from django.db import models


class OutboxMessage(models.Model):
    """One enqueue of a background receiver, waiting for its backend."""

    # The idempotency key the receiver reads: every delivery of this row,
    # first or repeated, carries it.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receiver = models.CharField(max_length=255, help_text="Dotted path.")
    signal = models.CharField(max_length=255, help_text="Registered name.")
    backend = models.CharField(max_length=100, help_text="Alias in TASKS.")
    queue_name = models.CharField(max_length=100)
    priority = models.IntegerField(null=True, blank=True)
    payload = models.JSONField(help_text="The task's keyword arguments.")
    created_at = models.DateTimeField(db_index=True)
    # Whoever holds the row (the sending process right after COMMIT, or a
    # relay) until then; afterwards any relay may take it again.
    claimed_until = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    dead_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Set when the row failed SIGNALKIT_OUTBOX_MAX_ATTEMPTS times.",
    )

    class Meta:
        verbose_name = "outbox message"
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.receiver} ({self.signal}) {self.id}"

    @property
    def is_dead(self) -> bool:
        return self.dead_at is not None
