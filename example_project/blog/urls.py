from __future__ import annotations

from django.urls import path

from . import views

app_name = "blog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("posts/new/", views.new_post, name="new"),
    path("posts/<slug:slug>/", views.detail, name="detail"),
    path("posts/<slug:slug>/publish/", views.publish, name="publish"),
    path("posts/<slug:slug>/delete/", views.delete, name="delete"),
]
