"""Views and URLs for the debug toolbar panel tests (tests/test_panel.py).

Each view sends signals of ``testapp.signals`` and returns a small HTML page
the toolbar can be inserted into.
"""

from __future__ import annotations

from typing import Any

from collections.abc import Callable

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import URLPattern, URLResolver, include, path

from signalkit.testing import mute

from testapp.models import Post
from testapp.signals import legacy_event, post_published

PAGE = "<!doctype html><html><head><title>t</title></head><body>{}</body></html>"


def publish(request: HttpRequest) -> HttpResponse:
    """Send ``post_published`` for an unsaved post (no SQL)."""
    post = Post(pk=5, title="<script>alert('title')</script>")
    post_published.send(sender=Post, post=post, user=request.GET.get("user", "ann"))
    return HttpResponse(PAGE.format("published"))


async def apublish(request: HttpRequest) -> HttpResponse:
    post = Post(pk=6, title="async")
    await post_published.asend(sender=Post, post=post, user="ann")
    return HttpResponse(PAGE.format("published"))


def legacy(request: HttpRequest) -> HttpResponse:
    """Send the plain ``legacy_event`` with the query string as arguments, as
    many times as ``?times=`` says."""
    arguments = request.GET.dict()
    times = int(arguments.pop("times", "1"))
    for _ in range(times):
        legacy_event.send(sender=None, **arguments)
    return HttpResponse(PAGE.format("sent"))


def muted(request: HttpRequest) -> HttpResponse:
    """Send ``legacy_event`` with its receivers muted."""
    with mute(legacy_event):
        legacy_event.send(sender=None, mood="quiet")
    return HttpResponse(PAGE.format("muted"))


def rendered(request: HttpRequest) -> HttpResponse:
    """Render a template, which the toolbar's Templates panel records through
    ``template_rendered``."""
    template = engines["django"].from_string("<p>{{ word }}</p>")
    return HttpResponse(PAGE.format(template.render({"word": "rendered"})))


def quiet(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("nothing sent"))


class ShortCircuitPanel(Panel):
    """Answers every request itself, as a caching or redirecting panel may."""

    is_async = True
    has_content = False
    title = "Short circuit"

    def process_request(self, request: HttpRequest) -> Any:
        return HttpResponse(PAGE.format("answered by a panel"))


class CspNonceMiddleware:
    """Gives each request a Content-Security-Policy nonce the way django-csp
    does (``request.csp_nonce``), which the toolbar reads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = "n0nc3"  # type: ignore[attr-defined]
        return self.get_response(request)


urlpatterns: list[URLPattern | URLResolver] = [
    path("publish/", publish),
    path("apublish/", apublish),
    path("legacy/", legacy),
    path("quiet/", quiet),
    path("muted/", muted),
    path("rendered/", rendered),
    path("__debug__/", include("debug_toolbar.urls")),
]
