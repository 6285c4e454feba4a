"""A django-debug-toolbar panel: the signals sent during each request.

Add ``"signalkit.panels.SignalkitPanel"`` to ``DEBUG_TOOLBAR_PANELS`` in place
of ``"debug_toolbar.panels.signals.SignalsPanel"``. The panel records every
send made while the request goes through the toolbar's middleware (with
:func:`signalkit.record`) and lists every registered signal with its
connected receivers, a superset of the toolbar's own signals panel.

This module imports ``debug_toolbar``: install signalkit's ``toolbar`` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from inspect import iscoroutine
from typing import Any, TypedDict

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signalkit.catalog import build_catalog
from signalkit.recording import Recorder, record

__all__ = ["SignalkitPanel"]

# Sent outside the toolbar's middleware, so no recording of a request sees
# them: (dotted name, why).
UNSEEN_SIGNALS = (
    (
        "django.core.signals.request_started",
        _("sent by Django's handler before any middleware runs"),
    ),
    (
        "django.core.signals.request_finished",
        _("sent when the server closes the response, after the toolbar is done"),
    ),
)

# Deeper sends are indented no further, so that rows stay readable.
MAX_INDENT = 8


class _Row(TypedDict):
    send: dict[str, Any]
    receivers: list[dict[str, Any]]
    number: int
    indent: int
    parent_number: int | None
    parent_receiver: str | None
    errors: int


def _unseen(catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    receivers = {signal["name"]: signal["receivers"] for signal in catalog}
    return [
        {
            "signal": name,
            "reason": str(reason),
            "receivers": [each["name"] for each in receivers.get(name, [])],
        }
        for name, reason in UNSEEN_SIGNALS
    ]


def _receiver_time_us(sends: list[dict[str, Any]]) -> int:
    # A receiver's duration includes the receivers of the sends it makes, so
    # only top-level sends count towards the total.
    return sum(
        call["duration_us"] or 0
        for send in sends
        if send["parent"] is None
        for call in send["receivers"]
    )


def _rows(sends: list[dict[str, Any]]) -> Iterator[_Row]:
    for number, send in enumerate(sends, start=1):
        parent = send["parent"]
        parent_receiver = None
        if parent is not None and send["parent_receiver"] is not None:
            parent_receiver = sends[parent]["receivers"][send["parent_receiver"]][
                "name"
            ]
        yield {
            "send": send,
            "receivers": [
                {**call, "milliseconds": (call["duration_us"] or 0) / 1000}
                for call in send["receivers"]
            ],
            "number": number,
            "indent": min(send["depth"], MAX_INDENT) * 2,
            "parent_number": None if parent is None else parent + 1,
            "parent_receiver": parent_receiver,
            "errors": sum(call["status"] == "error" for call in send["receivers"])
            + (send["exception_type"] is not None),
        }


class SignalkitPanel(Panel):
    """Which signals were sent during the request, and which receivers ran.

    Only JSON-native data is kept in the toolbar's store, so the panel renders
    the same for the current request, for an older one picked in the history
    panel, and from the database store.
    """

    is_async = True
    title = _("Signals")
    nav_icon = "debug_toolbar/img/signals.svg"  # type: ignore[assignment]
    template = "signalkit/panels/signalkit.html"

    _recorder: Recorder | None = None

    @property
    def nav_subtitle(self) -> str:
        stats: dict[str, Any] = self.get_stats()
        sends = stats.get("sends", [])
        calls = sum(len(send["receivers"]) for send in sends)
        milliseconds = stats.get("receiver_time_us", 0) / 1000
        return ngettext(
            "%(sends)d send, %(calls)d receivers run in %(time).1f ms",
            "%(sends)d sends, %(calls)d receivers run in %(time).1f ms",
            len(sends) + stats.get("dropped", 0),
        ) % {
            "sends": len(sends) + stats.get("dropped", 0),
            "calls": calls,
            "time": milliseconds,
        }

    def process_request(self, request: HttpRequest) -> Any:
        with record() as recorder:
            response = super().process_request(request)
        if iscoroutine(response):
            # ASGI: the rest of the middleware chain runs when the toolbar
            # awaits it, so record around the await instead.
            return self._aprocess_request(response)
        self._recorder = recorder
        return response

    async def _aprocess_request(
        self, response: Awaitable[HttpResponse]
    ) -> HttpResponse:
        with record() as recorder:
            result = await response
        self._recorder = recorder
        return result

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        recorder, self._recorder = self._recorder, None  # its data is stored now
        sends = [] if recorder is None else recorder.to_dicts()
        self.record_stats(
            {
                "sends": sends,
                "dropped": 0 if recorder is None else recorder.dropped,
                "max_sends": None if recorder is None else recorder.max_sends,
                "receiver_time_us": _receiver_time_us(sends),
            }
        )

    @property
    def content(self) -> str:
        # The sends come from the stats only: when the toolbar renders a panel
        # from its store, there is no request and no recorder. The registered
        # signals describe the project, not the request, so they are read now
        # rather than stored with every request.
        stats: dict[str, Any] = self.get_stats()
        sends = stats.get("sends", [])
        rows = list(_rows(sends))
        signals = build_catalog()
        return render_to_string(
            self.template,
            {
                "rows": rows,
                "send_count": len(sends),
                "receiver_count": sum(len(send["receivers"]) for send in sends),
                "error_count": sum(row["errors"] for row in rows),
                "receiver_time": stats.get("receiver_time_us", 0) / 1000,
                "dropped": stats.get("dropped", 0),
                "max_sends": stats.get("max_sends"),
                "catalog": signals,
                "unseen": _unseen(signals),
            },
        )
