"""The player page sends no Referer at all (web/middleware.py): its URL names a
session, and recorded pages rebuilt inside it request third-party hosts."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from tests.web.test_middleware import ClientFactory, edge


async def test_the_player_page_is_no_referrer(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    client = await edge(aiohttp_client, tmp_path, handler)
    player = await client.get("/sessions/5b0c5a52-3f4e-4a43-9d6b-1c1f6f0b8a11")
    assert player.headers["Referrer-Policy"] == "no-referrer"
    page = await client.get("/sites/1/sessions")
    assert page.headers["Referrer-Policy"] == "same-origin"
