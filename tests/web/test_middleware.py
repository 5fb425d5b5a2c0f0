"""The HTTP edge: domain errors and aiohttp's own become the documented JSON
error body (or a page for a browser), anything unexpected a bare 500, and every
response gets the security headers. A small app with only these middlewares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from replay_server import keys
from replay_server.errors import (
    ConfigError,
    CorruptChunk,
    Forbidden,
    InvalidMessage,
    NotFound,
    RateLimited,
    ReplayError,
    StorageError,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnknownSite,
)
from replay_server.settings import Settings
from replay_server.web.middleware import (
    CSP,
    HSTS,
    PLAYER_CSP,
    SERVER_FAILURE,
    error_middleware,
    security_headers_middleware,
)

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]

ERRORS: list[tuple[ReplayError, int, str]] = [
    (InvalidMessage("bad"), 400, "invalid_message"),
    (InvalidMessage("bad", code="invalid_parameter"), 400, "invalid_parameter"),
    (UnknownSite("bad"), 401, "unknown_site"),
    (Unauthorized("bad"), 401, "unauthorized"),
    (Forbidden("bad"), 403, "forbidden"),
    (NotFound("bad"), 404, "not_found"),
    (TooLarge("bad"), 413, "too_large"),
    (RateLimited("bad"), 429, "rate_limited"),
    (ConfigError("bad"), 500, "config_error"),
    (CorruptChunk("bad"), 500, "corrupt_chunk"),
    (StorageError("bad"), 503, "storage_error"),
    (Unavailable("bad"), 503, "storage_unavailable"),
]


async def edge(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    *,
    trusted_proxies: str = "",
) -> Client:
    app = web.Application(middlewares=[security_headers_middleware, error_middleware])
    app[keys.SETTINGS] = Settings(data_dir=tmp_path, trusted_proxies=trusted_proxies)
    for path in ("/api/v1/x", "/ingest/x", "/page", "/sessions/x", "/recorder.js"):
        app.router.add_get(path, handler)
    return await aiohttp_client(app)


@pytest.mark.parametrize(("error", "status", "code"), ERRORS, ids=lambda v: str(v))
async def test_domain_errors_become_their_status_and_code(
    aiohttp_client: ClientFactory, tmp_path: Path, error: ReplayError, status: int, code: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        raise error

    client = await edge(aiohttp_client, tmp_path, handler)
    response = await client.get("/api/v1/x", headers={"Accept": "text/html"})
    assert response.status == status
    # A refusal says why; the server's own failure keeps its details in the log.
    message = "bad" if status < 500 else SERVER_FAILURE[status]
    assert await response.json() == {"error": {"code": code, "message": message}}


async def test_aiohttp_errors_and_unexpected_ones(
    aiohttp_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: web.Request) -> web.Response:
        kind = request.query["kind"]
        if kind == "gone":
            raise web.HTTPGone(text="it went")
        if kind == "redirect":
            raise web.HTTPFound("/elsewhere")
        raise RuntimeError("secret detail")

    client = await edge(aiohttp_client, tmp_path, handler)
    gone = await client.get("/api/v1/x", params={"kind": "gone"})
    assert gone.status == 410
    assert await gone.json() == {"error": {"code": "gone", "message": "it went"}}

    moved = await client.get("/api/v1/x", params={"kind": "redirect"}, allow_redirects=False)
    assert moved.status == 302 and moved.headers["Location"] == "/elsewhere"

    with caplog.at_level("ERROR"):
        broken = await client.get("/api/v1/x", params={"kind": "bug"})
    assert broken.status == 500
    body = await broken.text()
    assert "secret detail" not in body
    assert await broken.json() == {
        "error": {"code": "server_error", "message": "internal server error"}
    }
    assert "secret detail" in caplog.text  # logged, not shown

    missing = await client.get("/no/such/path")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not_found"


async def test_a_browser_gets_a_page_not_json(
    aiohttp_client: ClientFactory, tmp_path: Path, app: web.Application
) -> None:
    """On the real app (its templates): a public path, so no login is asked for."""

    async def handler(request: web.Request) -> web.Response:
        raise Forbidden("not <yours>")

    app.router.add_get("/demo-edge-test", handler)
    client = await aiohttp_client(app)
    page = await client.get("/demo-edge-test", headers={"Accept": "text/html,*/*"})
    assert page.status == 403
    assert page.content_type == "text/html"
    assert "not &lt;yours&gt;" in await page.text()  # escaped
    json = await client.get("/demo-edge-test")
    assert (await json.json())["error"] == {"code": "forbidden", "message": "not <yours>"}

    # the API and ingest answer JSON whatever the Accept header says
    small = await edge(aiohttp_client, tmp_path, handler)
    for path in ("/api/v1/x", "/ingest/x"):
        api = await small.get(path, headers={"Accept": "text/html"})
        assert (await api.json())["error"]["code"] == "forbidden"


async def test_security_headers(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    client = await edge(aiohttp_client, tmp_path, handler)
    page = await client.get("/page")
    assert page.headers["Content-Security-Policy"] == CSP
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers  # plain http, no trusted proxy

    player = await client.get("/sessions/x")
    assert player.headers["Content-Security-Policy"] == PLAYER_CSP

    # Embedded on clients' sites: no frame or content policy of ours.
    for path in ("/ingest/x", "/recorder.js"):
        response = await client.get(path)
        assert "Content-Security-Policy" not in response.headers
        assert "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_hsts_only_over_https_through_a_trusted_proxy(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    client = await edge(aiohttp_client, tmp_path, handler, trusted_proxies="127.0.0.1")
    secure = await client.get("/page", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == HSTS
    plain = await client.get("/page", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
