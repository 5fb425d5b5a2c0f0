"""The HTTP edge: domain errors become JSON (or HTML) error responses here, and
security headers are added to every response."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from replay_server import keys
from replay_server.dashboard.render import render_error
from replay_server.errors import ReplayError
from replay_server.proxies import request_is_secure

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# The player page rebuilds recorded pages in a sandboxed iframe, which inherits
# this policy: the recorded site's own images, styles, fonts and media must
# load for a faithful replay. Scripts stay 'self' only (and the sandbox has no
# allow-scripts). 'wasm-unsafe-eval' lets the player compile its zstd decoder
# (WebAssembly, served from 'self') to decode stored chunks; it allows no eval
# of JavaScript.
PLAYER_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self' 'unsafe-inline' http: https:; img-src 'self' data: blob: http: https:; "
    "font-src 'self' data: http: https:; media-src 'self' blob: http: https:; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


HSTS = "max-age=31536000"  # sent only over https (directly or via a trusted proxy)


SERVER_FAILURE = {
    500: "internal server error",
    503: "the server cannot do this now; try again later",
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def wants_html(request: web.Request) -> bool:
    path = request.path
    if path.startswith(("/api/", "/ingest/")):
        return False
    return "text/html" in request.headers.get("Accept", "")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ReplayError as e:
        if e.http_status >= 500:
            # The server's own failure: its details (paths, driver and OS
            # messages) are for the log, the client gets the code.
            log.warning("%s %s failed: %s: %s", request.method, request.path, e.code, e.message)
            return _error_response(request, e.http_status, e.code, SERVER_FAILURE[e.http_status])
        return _error_response(request, e.http_status, e.code, e.message)
    except web.HTTPException as e:
        if e.status < 400 or e.empty_body:
            raise
        code = e.reason.lower().replace(" ", "_")
        return _error_response(request, e.status, code, e.text or e.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(request, 500, "server_error", "internal server error")


def _error_response(request: web.Request, status: int, code: str, message: str) -> web.Response:
    if wants_html(request):
        return render_error(request, status, message)
    return web.json_response(error_body(code, message), status=status)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if response.prepared:  # WebSockets and streamed bodies: headers already sent
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # the player page's URL names a session: a replay must never send it anywhere
    player = request.path.startswith("/sessions/")
    headers.setdefault("Referrer-Policy", "no-referrer" if player else "same-origin")
    if not request.path.startswith("/ingest/") and request.path != "/recorder.js":
        policy = PLAYER_CSP if player else CSP
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request_is_secure(request, request.app[keys.SETTINGS].trusted_proxies):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
