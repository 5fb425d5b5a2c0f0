"""The recorder script (`GET /recorder.js`); routes.py lists it with the ingest endpoints."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from replay_server.errors import ReplayError

RECORDER_JS = Path(__file__).resolve().parents[1] / "static" / "recorder.js"


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
