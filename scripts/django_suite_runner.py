"""A Django test runner that keeps signalkit's recorder active for the whole run.

Used by ``scripts/django_suite.py`` through ``django_suite_settings`` (Django's
``tests/runtests.py`` has no ``--testrunner`` option, but it honours the
``TEST_RUNNER`` setting). ``SIGNALKIT_SUITE_MODE`` selects ``record`` (the
recorder only), ``record+mute`` (the recorder plus a mute of a fresh,
unrelated signal), ``sentry`` (sentry-sdk's Django integration with
``signals_spans=True``, no recorder) or ``record+sentry`` (sentry-sdk set up
inside the recording, so its patch goes on top of signalkit's) or
``record+trace`` (the recorder, signalkit's OpenTelemetry tracer under a
sampled span that covers the whole run, and the slow-receiver log). At the
end it prints one line, starting with
:data:`REPORT_PREFIX`, that the script parses to check the recorder really
recorded the suite's sends.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.dispatch import Signal
from django.test.runner import DiscoverRunner

REPORT_PREFIX = "signalkit-suite-report: "
MODE_ENV = "SIGNALKIT_SUITE_MODE"
TESTS_DIR_ENV = "SIGNALKIT_SUITE_TESTS_DIR"
SUITE_DIRS = (
    "dispatch",
    "signals",
    "m2m_signals",
    "delete",
    "auth_tests",
    "requests_tests",
    "test_client_regress",
)
MODES = {"record", "record+mute", "sentry", "record+sentry", "record+trace"}


def init_sentry() -> None:
    """sentry-sdk's Django integration, sampling everything, sending nothing."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.transport import Transport

    class DropTransport(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            pass

    sentry_sdk.init(
        dsn="https://public@127.0.0.1/1",
        transport=DropTransport(),
        integrations=[DjangoIntegration(signals_spans=True)],
        default_integrations=False,
        auto_enabling_integrations=False,
        traces_sample_rate=1.0,
    )


def start_tracing(stack: ExitStack) -> Callable[[], int]:
    """signalkit's tracer, every send under a sampled span, and the slow log.

    Returns a function that says how many spans have ended so far.
    """
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

    from signalkit import pipeline
    from signalkit.contrib.opentelemetry import SignalkitInstrumentor
    from signalkit.slow import SlowReceiverLog

    ended: list[int] = [0]

    class Count(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            ended[0] += 1

    provider = TracerProvider()
    provider.add_span_processor(Count())
    SignalkitInstrumentor().instrument(tracer_provider=provider)
    stack.callback(SignalkitInstrumentor().uninstrument)
    slow_log = SlowReceiverLog(threshold_ms=60_000)
    pipeline.add_observer(slow_log)
    stack.callback(pipeline.remove_observer, slow_log)
    tracer = provider.get_tracer("django-suite")
    stack.enter_context(tracer.start_as_current_span("Django's test suites"))
    return lambda: ended[0]


class RecordingRunner(DiscoverRunner):
    """``DiscoverRunner`` whose whole ``run_tests()`` runs inside ``record()``."""

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        import signalkit
        from signalkit.pipeline import is_patched, muting
        from signalkit.recording import record

        mode = os.environ.get(MODE_ENV, "record")
        if mode not in MODES:
            raise ValueError(f"unknown {MODE_ENV}={mode!r}")
        with ExitStack() as stack:
            recorder = None
            if mode.startswith("record"):
                recorder = stack.enter_context(record(max_sends=10**9))
            if mode == "record+mute":
                stack.enter_context(muting(frozenset({Signal()})))
            if mode.endswith("sentry"):
                init_sentry()
            spans: Callable[[], int] | None = None
            if mode.endswith("trace"):
                spans = start_tracing(stack)
            patched_before = is_patched()
            failures: int = super().run_tests(test_labels, **kwargs)
            patched_after = is_patched()
        sends = [] if recorder is None else recorder.sends
        tests_dir = os.environ.get(TESTS_DIR_ENV, "")
        prefixes = tuple(os.path.join(tests_dir, name) + os.sep for name in SUITE_DIRS)
        from_suites = sum(1 for send in sends if send.site.startswith(prefixes))
        report = {
            "mode": mode,
            "sends": len(sends),
            "dropped": 0 if recorder is None else recorder.dropped,
            "sends_from_suites": from_suites,
            "patched": patched_before and patched_after,
            "unpatched_after": not is_patched(),
            "signalkit": signalkit.__file__,
        }
        if spans is not None:
            report["spans"] = spans()
        sys.stdout.flush()
        print(REPORT_PREFIX + json.dumps(report), file=sys.stderr, flush=True)
        return failures
