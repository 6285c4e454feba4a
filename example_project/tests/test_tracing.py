"""A traced request of the example project: the trace shown in the docs.

Publishing a post under a request span, with SignalkitInstrumentor and the
real OpenTelemetry SDK exporting to memory, gives the span tree that
``docs/observability.rst`` shows (its ``trace`` sample). The test fails when
the two differ; ``python scripts/docs_samples.py --write`` rewrites the page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import django
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from docs_samples import check_sample, sample_texts
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind

from blog.models import Post
from signalkit.contrib.opentelemetry import SignalkitInstrumentor

EXAMPLE = Path(__file__).resolve().parent.parent
# What `make demo OTEL=1` leaves out too: every request sends these.
EXCLUDE = ["django.core.signals.request_*"]
# The Tasks framework's own signals differ between Django versions (the
# django-tasks backport on 5.2): the sample is made with the version `make
# test` installs, and other versions compare the rest.
DOCS_DJANGO = (5, 2)


def without_tasks(tree: str) -> list[str]:
    return [line for line in tree.splitlines() if "task" not in line.lower()]


@pytest.fixture
def exporter() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    SignalkitInstrumentor().instrument(tracer_provider=provider, exclude=EXCLUDE)
    yield provider, memory
    SignalkitInstrumentor().uninstrument()


def render(spans: Sequence[ReadableSpan]) -> str:
    """The spans as an indented tree, children in the order they started."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda span: span.start_time or 0):
        parent = None if span.parent is None else span.parent.span_id
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int, prefix: str) -> None:
        siblings = children.get(parent, [])
        for number, span in enumerate(siblings):
            last = number == len(siblings) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{describe(span)}")
            walk(span.context.span_id, prefix + ("   " if last else "│  "))

    for root in children.get(None, []):
        lines.append(describe(root))
        walk(root.context.span_id, "")
    return "\n".join(lines) + "\n"


def describe(span: ReadableSpan) -> str:
    attributes = dict(span.attributes or {})
    if span.kind is SpanKind.SERVER:
        return f"{span.name}  (the request)"
    if span.name.startswith("send "):
        path = Path(str(attributes["code.file.path"]))
        if path.is_relative_to(EXAMPLE):
            site = f"{path.relative_to(EXAMPLE)}:{attributes['code.line.number']}"
        else:  # an installed package: its own path and lines vary
            site = "/".join(path.parts[-2:])
        return (
            f"{span.name}  [{attributes['signalkit.method']}, sender "
            f"{attributes['signalkit.sender']}, at {site}]"
        )
    if attributes.get("signalkit.background"):
        return f"{span.name}  [background, task enqueued]"
    return span.name


@pytest.mark.django_db(transaction=True)
def test_publishing_a_post_gives_the_trace_shown_in_the_docs(
    exporter: tuple[TracerProvider, InMemorySpanExporter], alice: User
) -> None:
    provider, memory = exporter
    post = Post.objects.create(author=alice, title="Traced", body="Signals rock")
    client = Client()
    client.force_login(alice)
    url = reverse("blog:publish", args=[post.slug])

    with provider.get_tracer("example").start_as_current_span(
        "POST posts/<slug:slug>/publish/", kind=SpanKind.SERVER
    ):
        response = client.post(url)

    assert response.status_code == 302
    tree = render(memory.get_finished_spans())
    if django.VERSION[:2] != DOCS_DJANGO:
        (shown,) = sample_texts("trace")
        assert without_tasks(tree) == without_tasks(shown)
        return
    check_sample("trace", tree)
