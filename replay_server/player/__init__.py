"""The dashboard and the player: server-rendered pages plus the built player assets."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def setup_templates(app: web.Application) -> None:
    """The pages' templates (the dashboard's, the opt-out page's); routes.py lists the URLs."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
