"""The dashboard and the player: server-rendered pages plus the built player assets."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from . import account_views, org_views, site_views
from .views import routes

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def setup_dashboard(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_routes(routes)
    for module in (site_views, account_views, org_views):
        app.router.add_routes(module.routes)
    app.router.add_static("/static/player/", STATIC_DIR, name="player_static")
