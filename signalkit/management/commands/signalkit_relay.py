"""``manage.py signalkit_relay``: forward what the outbox still holds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from signalkit.outbox import relay


class Command(BaseCommand):
    help = (
        "Forward the background-receiver tasks left in signalkit's outbox (a "
        "broker that was down, a process that died after COMMIT) to their "
        "Tasks backends. Several relays may run at once on PostgreSQL. Run it "
        "every minute or so (cron, a periodic task)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database whose outbox to relay (default: default).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=100,
            help="Rows claimed at a time (default: 100).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database = options["database"]
        if database not in connections:
            raise CommandError(f"--database {database!r} is not in DATABASES.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = relay(using=database, batch_size=options["batch_size"])
        self.stdout.write(
            f"forwarded {report.forwarded}, failed {report.failed}, "
            f"dead letters {report.dead}"
        )
