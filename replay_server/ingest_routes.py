"""Public ingest routes: the recorder script, the WebSocket and the HTTP fallback."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .errors import ReplayError
from .http_ingest import ingest_batch, ingest_preflight
from .ws_recorder import recorder_ws, setup_recorder_sockets

RECORDER_JS = Path(__file__).parent / "static" / "recorder.js"


async def recorder_script(request: web.Request) -> web.StreamResponse:
    if not RECORDER_JS.is_file():
        raise ReplayError(
            "recorder.js is not built; run `npm ci && npm run build`", code="not_built"
        )
    return web.FileResponse(
        RECORDER_JS,
        headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def setup_ingest(app: web.Application) -> None:
    setup_recorder_sockets(app)
    app.router.add_get("/recorder.js", recorder_script)
    app.router.add_get("/ingest/ws", recorder_ws)
    app.router.add_post("/ingest/batch", ingest_batch)
    app.router.add_route("OPTIONS", "/ingest/batch", ingest_preflight)
