"""URL configuration for the signalkit example project."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("blog.urls")),
    # Always routed (debug_toolbar_urls() adds nothing while DEBUG is off, as
    # when the tests import this module); the toolbar shows only with DEBUG on.
    path("__debug__/", include("debug_toolbar.urls")),
]
