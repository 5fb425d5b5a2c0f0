"""`GET /healthz` (200 when the database and the blob store answer, else 503)
and `GET /metrics` (Prometheus text format)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from replay_server import keys
from replay_server.errors import ReplayError


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


async def metrics_endpoint(request: web.Request) -> web.Response:
    # The ingestor keeps its gauges current itself (every tick).
    body = generate_latest(request.app[keys.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
