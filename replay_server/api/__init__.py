"""JSON API v1 (DESIGN.md section 7)."""

from __future__ import annotations

from aiohttp import web

from .live import routes as live_routes
from .privacy import routes as privacy_routes
from .v1 import routes


def setup_api(app: web.Application) -> None:
    app.router.add_routes(routes)
    app.router.add_routes(live_routes)
    app.router.add_routes(privacy_routes)
