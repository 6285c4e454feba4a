"""Django's own ``tests/test_sqlite.py`` settings plus signalkit's recording runner.

Only ``TEST_RUNNER`` is added; everything else is Django's.
"""

from __future__ import annotations

from test_sqlite import *  # noqa: F403

TEST_RUNNER = "django_suite_runner.RecordingRunner"
