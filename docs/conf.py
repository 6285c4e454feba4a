"""Sphinx configuration for signalkit's documentation (built with ``-W``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Document the checkout, not an installed copy.
sys.path.insert(0, str(ROOT))

# autodoc imports signalkit, which needs configured settings and a populated
# app registry. Minimal inline settings keep the docs independent of the test
# suite's settings module.
settings.configure(
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "signalkit",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
)
django.setup()

from signalkit.conf import conf as signalkit_conf  # noqa: E402  (needs setup())

# Defaults that change as features grow are read from the code, not copied.
rst_epilog = f"""
.. |sensitive_args_default| replace:: ``{list(signalkit_conf.SENSITIVE_ARGS)!r}``
"""

_version = re.search(
    r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
)
assert _version is not None, "pyproject.toml has no static version"

project = "signalkit"
author = "signalkit contributors"
copyright = author
release = _version.group(1)
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]
nitpicky = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

myst_heading_anchors = 3

html_theme = "furo"
html_title = f"signalkit {release}"
