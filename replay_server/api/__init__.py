"""JSON API v1 (DESIGN.md section 7)."""

from __future__ import annotations

from aiohttp import web

from .v1 import routes


def setup_api(app: web.Application) -> None:
    app.router.add_routes(routes)
