"""URL configuration for the signalkit example project."""

from __future__ import annotations

from debug_toolbar.toolbar import debug_toolbar_urls
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("blog.urls")),
    *debug_toolbar_urls(),
]
