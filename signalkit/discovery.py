"""Autodiscovery: import ``<app>.signals`` (and friends) of every installed app."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from signalkit.conf import conf
from signalkit.registry import registry


def autodiscover() -> list[str]:
    """Import each app's autodiscover modules and register their signals.

    A module that does not exist is skipped; one that exists but fails to
    import raises its own error, unchanged. Returns the modules imported.
    """
    imported = []
    for module_name in conf.AUTODISCOVER_MODULES:
        for app_config in apps.get_app_configs():
            # Checking first, rather than catching ImportError like Django's
            # autodiscover_modules(), keeps a broken module's own error intact.
            if not module_has_submodule(app_config.module, module_name):
                continue
            dotted = f"{app_config.name}.{module_name}"
            registry.discover_module(import_module(dotted))
            imported.append(dotted)
    registry.check_all_bound(imported)
    return imported
