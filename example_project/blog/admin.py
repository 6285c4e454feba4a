from __future__ import annotations

from django.contrib import admin

from .models import Post, SearchEntry


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ("title", "author", "published", "published_at", "created_at")
    list_filter = ("published",)
    list_select_related = ("author",)
    search_fields = ("title", "body")
    prepopulated_fields = {"slug": ("title",)}


@admin.register(SearchEntry)
class SearchEntryAdmin(admin.ModelAdmin[SearchEntry]):
    list_display = ("post", "updated_at")
    list_select_related = ("post",)
    search_fields = ("words",)
