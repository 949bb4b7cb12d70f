"""Where third-party front-end files come from.

Bootstrap arrives with the PyPI package ``django-bootstrap-static`` (an installed app), htmx
with the TOM Toolkit itself, plotly.js with the PyPI ``plotly`` package. Alpine.js comes from
the npm registry: the setup script runs ``npm ci`` in the project root, and this module points
Django's static finders at the files it installed. Nothing third-party is copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

#: npm package -> folder inside it served under ``/static/<prefix>/``.
NPM_ASSETS = {"alpinejs": ("alpinejs", "dist")}


def node_modules_dir() -> Path:
    """``DESCTOM_NODE_MODULES`` if set, else ``node_modules`` at the project root."""
    env = os.environ.get("DESCTOM_NODE_MODULES", "").strip()
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "node_modules"


def plotly_static_dir() -> tuple[str, str]:
    """``/static/plotly/plotly.min.js`` from the installed ``plotly`` package."""
    import plotly

    return ("plotly", str(Path(plotly.__file__).parent / "package_data"))


def node_static_dirs() -> list[tuple[str, str]]:
    """``STATICFILES_DIRS`` entries for the npm packages that are installed."""
    base = node_modules_dir()
    dirs = []
    for package, (prefix, sub) in NPM_ASSETS.items():
        folder = base / package / sub
        if folder.is_dir():
            dirs.append((prefix, str(folder)))
    return dirs
