"""Every observer at once, run in its own process by tests/test_opentelemetry.py.

``python -m observers_scenario ORDER`` (``DJANGO_SETTINGS_MODULE=settings``)
sends a signal to two sync receivers and an async one while signalkit's
recorder, its OpenTelemetry tracer, its slow-receiver log and sentry-sdk's
Django integration (``signals_spans=True``, in-memory transport) are all
active, and prints, as JSON, the receivers each of them saw. ORDER says
whether sentry-sdk (which patches ``Signal._live_receivers`` for good) is
set up before signalkit starts watching or after. Its own process, because
sentry-sdk cannot be uninstalled.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import django


def charge(sender: Any, **kwargs: Any) -> str:
    return "charged"


def email(sender: Any, **kwargs: Any) -> str:
    return "sent"


async def notify(sender: Any, **kwargs: Any) -> str:
    return "notified"


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def main(order: str) -> dict[str, Any]:
    import sentry_sdk
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.transport import Transport

    envelopes: list[Any] = []

    class Memory(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            envelopes.append(envelope)

    def start_sentry() -> None:
        sentry_sdk.init(
            dsn="https://key@sentry.invalid/1",
            transport=Memory,
            traces_sample_rate=1.0,
            default_integrations=False,
            integrations=[DjangoIntegration(signals_spans=True)],
        )

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))

    if order == "sentry-first":
        start_sentry()
    django.setup()
    from django.test import override_settings

    from signalkit import Signal, record
    from signalkit.contrib.opentelemetry import SignalkitInstrumentor

    SignalkitInstrumentor().instrument(tracer_provider=provider)
    if order == "signalkit-first":
        start_sentry()

    # Run as __main__: connect the functions under their importable names.
    import observers_scenario as scenario

    order_paid = Signal(name="scenario.order_paid", args=["order"])
    for receiver in (scenario.charge, scenario.email, scenario.notify):
        order_paid.connect(receiver)
    slow = Keep()
    logging.getLogger("signalkit.slow").addHandler(slow)

    # A threshold of one nanosecond: every receiver is "slow".
    with (
        override_settings(SIGNALKIT_SLOW_RECEIVER_MS=0.000001),
        record() as recorder,
        sentry_sdk.start_transaction(name="request"),
        provider.get_tracer("scenario").start_as_current_span("request"),
    ):
        order_paid.send(sender=None, order=1)
        order_paid.send_robust(sender=None, order=2)
    sentry_sdk.flush()

    spans = memory.get_finished_spans()
    sends = [span for span in spans if span.name == "send scenario.order_paid"]
    [transaction] = [
        item.payload.json
        for envelope in envelopes
        for item in envelope.items
        if item.type == "transaction"
    ]
    return {
        "recorder": [
            [call.name for call in send.receivers]
            for send in recorder.sends
            if send.signal_name == "scenario.order_paid"
        ],
        "tracer": [
            [
                span.name
                for span in spans
                if span.parent is not None
                and span.parent.span_id == send.context.span_id
            ]
            for send in sends
        ],
        "slow": [
            record.receiver  # type: ignore[attr-defined]
            for record in slow.records
            if record.signal == "scenario.order_paid"  # type: ignore[attr-defined]
        ],
        "sentry": [
            span["description"]
            for span in transaction["spans"]
            if span["op"] == "event.django"
        ],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
