"""Autodiscovery: import ``<app>.signals`` (and friends) of every installed app."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from signalkit.conf import conf, problem
from signalkit.registry import registry


def discoverable_modules() -> list[str]:
    """The dotted names of the modules autodiscovery imports, in order.

    Empty when ``SIGNALKIT_AUTODISCOVER_MODULES`` is not a list of module
    names: start-up goes on, and the system check ``signalkit.E002`` says
    what is wrong.
    """
    if problem("AUTODISCOVER_MODULES") is not None:
        return []
    return [
        f"{app_config.name}.{module_name}"
        for module_name in conf.AUTODISCOVER_MODULES
        for app_config in apps.get_app_configs()
        # Checking first, rather than catching ImportError like Django's
        # autodiscover_modules(), keeps a broken module's own error intact.
        if module_has_submodule(app_config.module, module_name)
    ]


def autodiscover() -> list[str]:
    """Import each app's autodiscover modules and register their signals.

    A module that does not exist is skipped; one that exists but fails to
    import raises its own error, unchanged. Returns the modules imported.
    """
    imported = discoverable_modules()
    for dotted in imported:
        registry.discover_module(import_module(dotted))
    registry.check_all_named(imported)
    return imported


def why_nothing_was_discovered() -> str | None:
    """Why autodiscovery finds no module at all, or ``None`` if it finds one."""
    if discoverable_modules():
        return None
    setting_problem = problem("AUTODISCOVER_MODULES")
    if setting_problem is not None:
        return f"Autodiscovery is off because {setting_problem}"
    names = " or ".join(repr(name) for name in conf.AUTODISCOVER_MODULES)
    count = sum(1 for _ in apps.get_app_configs())
    return (
        f"Autodiscovery found no module: none of the {count} installed apps has "
        f"a module named {names or 'anything'} (SIGNALKIT_AUTODISCOVER_MODULES). "
        f"Declare signals in <app>/signals.py, or list the modules that "
        f"declare them in SIGNALKIT_AUTODISCOVER_MODULES."
    )
