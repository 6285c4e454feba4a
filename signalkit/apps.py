from __future__ import annotations

from django.apps import AppConfig


class SignalkitConfig(AppConfig):
    name = "signalkit"
    verbose_name = "signalkit"

    def ready(self) -> None:
        from signalkit import checks  # noqa: F401  (registers the checks)
        from signalkit.builtins import register_builtin_signals
        from signalkit.discovery import autodiscover
        from signalkit.signal_coverage import report_from_environment
        from signalkit.slow import sync_with_settings

        register_builtin_signals()
        autodiscover()
        sync_with_settings()  # the slow-receiver log, when SIGNALKIT_SLOW_RECEIVER_MS is set
        report_from_environment()  # signal coverage, when SIGNALKIT_REPORT is set
