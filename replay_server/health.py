"""`GET /healthz`: 200 when the database and the blob store answer, else 503."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from . import keys
from .errors import ReplayError


async def healthz(request: web.Request) -> web.Response:
    problems: dict[str, str] = {}
    try:
        async with request.app[keys.DB]() as db:
            await db.execute(text("SELECT 1"))
    except Exception as e:  # any failure means unhealthy; say which part
        problems["database"] = type(e).__name__
    try:
        await request.app[keys.BLOBS].check()
    except ReplayError as e:
        problems["storage"] = e.message
    if problems:
        return web.json_response({"status": "unhealthy", "problems": problems}, status=503)
    return web.json_response({"status": "ok"})


def setup_health(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
