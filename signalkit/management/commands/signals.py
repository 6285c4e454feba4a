"""``manage.py signals``: list every signal with its arguments and receivers."""

from __future__ import annotations

import shutil
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signalkit.catalog import (
    FORMATS,
    RENDERERS,
    build_catalog,
    render_table,
)
from signalkit.discovery import why_nothing_was_discovered
from signalkit.exceptions import CatalogFilterError


class Command(BaseCommand):
    help = (
        "List every signal in the project with its declared arguments, docs, "
        "defining module and connected receivers."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app",
            help="Only signals defined in, or received in, this app (label or name).",
        )
        parser.add_argument(
            "--signal",
            help="Only signals whose dotted name is, or contains, this text.",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="table",
            help="Output format (default: table).",
        )
        parser.add_argument(
            "--outbox",
            action="store_true",
            help="Also show what signalkit's outbox holds: tasks waiting for the "
            "relay and dead letters, per background receiver.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            signals = build_catalog(app=options["app"], signal=options["signal"])
        except CatalogFilterError as error:
            raise CommandError(str(error)) from error
        if options["format"] == "table":
            width = shutil.get_terminal_size().columns
            output = render_table(signals, width=width)
        else:
            output = RENDERERS[options["format"]](signals)
        self.stdout.write(output, ending="")
        if options["outbox"]:
            from signalkit.outbox import outbox_report

            self.stdout.write(outbox_report())
        reason = why_nothing_was_discovered()
        if reason is not None:
            # On stderr, so that --format json stays a JSON document.
            self.stderr.write(reason)
