"""A django-debug-toolbar panel: the signals sent during each request.

Add ``"signalkit.panels.SignalkitPanel"`` to ``DEBUG_TOOLBAR_PANELS`` in place
of ``"debug_toolbar.panels.signals.SignalsPanel"``. The panel records every
send made while the request goes through the toolbar's middleware (with
:func:`signalkit.record`, sends that ran no receiver folded into counts
unless ``SIGNALKIT_PANEL_FOLD_EMPTY`` is off), and shows an overview per
signal, a timeline of the sends and receivers, the toolbar's own sends apart,
and every registered signal with its connected receivers: a superset of the
toolbar's own signals panel.

The work is split by job: :mod:`signalkit.panels.stored` turns a recording
into what the toolbar stores, :mod:`signalkit.panels.view` works out what to
show from that alone, and :mod:`signalkit.panels.timeline` and
:mod:`signalkit.panels.registered` write the HTML of the long parts.

This package imports ``debug_toolbar``: install signalkit's ``toolbar`` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable
from inspect import iscoroutine
from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signalkit.catalog import build_catalog
from signalkit.conf import conf
from signalkit.panels.registered import registered_html
from signalkit.panels.stacks import panel_recording
from signalkit.panels.stored import stored_stats
from signalkit.panels.timeline import stacks_html, timeline_html
from signalkit.panels.view import panel_context, project_figures
from signalkit.recording import Recorder

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

STYLESHEET = "signalkit/css/panel.css"
SCRIPT = "signalkit/js/panel.js"


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
        if not stats:
            return ""
        figures = project_figures(stats)
        values = {
            "sends": figures.sends,
            "calls": figures.receivers,
            "time": figures.receiver_ms,
            "elapsed": figures.elapsed_ms,
        }
        if figures.concurrent:
            # Receivers that ran at once: their summed time is not elapsed time.
            return (
                ngettext(
                    "%(sends)d send, %(calls)d receivers: %(elapsed)s ms elapsed, "
                    "%(time)s ms summed",
                    "%(sends)d sends, %(calls)d receivers: %(elapsed)s ms elapsed, "
                    "%(time)s ms summed",
                    figures.sends,
                )
                % values
            )
        return (
            ngettext(
                "%(sends)d send, %(calls)d receivers run in %(time)s ms",
                "%(sends)d sends, %(calls)d receivers run in %(time)s ms",
                figures.sends,
            )
            % values
        )

    def process_request(self, request: HttpRequest) -> Any:
        with panel_recording(fold_empty=conf.PANEL_FOLD_EMPTY) as recorder:
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
        with panel_recording(fold_empty=conf.PANEL_FOLD_EMPTY) as recorder:
            result = await response
        self._recorder = recorder
        return result

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        recorder, self._recorder = self._recorder, None  # its data is stored now
        if recorder is None:
            recorder = Recorder()  # the request never reached this panel
        self.record_stats(stored_stats(recorder))

    @property
    def scripts(self) -> list[str]:
        scripts: list[str] = super().scripts
        return [*scripts, static(SCRIPT)]

    @property
    def content(self) -> str:
        # The sends come from the stats only: when the toolbar renders a panel
        # from its store, there is no request and no recorder. The registered
        # signals describe the project, not the request, so they are read now
        # rather than stored with every request.
        stats: dict[str, Any] = self.get_stats()
        catalog = build_catalog()
        context = panel_context(stats, catalog)
        # Rendered within the page, the panel links its stylesheet with the
        # page's nonce. Fetched later by the toolbar's JavaScript (and always
        # for a request picked in History), the nonce of the page showing it
        # is unknown here: the panel's script links the stylesheet then, with
        # the nonce of the toolbar's own stylesheet, as the toolbar runs its
        # panels' scripts.
        if self.toolbar.request is not None:
            context["nonce"] = self.toolbar.csp_nonce
            context["link_stylesheet"] = True
        context["stylesheet"] = static(STYLESHEET)
        context["unseen"] = _unseen(catalog)
        context["timeline"] = timeline_html(context.pop("tree"))
        context["stack_lists"] = stacks_html(context.pop("stacks"))
        context["registered"] = registered_html(catalog)
        return render_to_string(self.template, context)
