"""Privacy in Chromium with the real recorder and player (docs/privacy.md):
text typed into a contenteditable element is stored masked, and opening a
replay sends the dashboard's URL to no one, whatever referrer policy the
recorded page declares."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from playwright.async_api import Browser

from tests.e2e.conftest import (
    Account,
    ClientSite,
    api_get,
    create_account,
    wait_for,
)
from tests.e2e.test_player import login
from tests.e2e.test_record_and_replay import stored_bytes
from tests.procs import ServerProcess, free_port

pytestmark = pytest.mark.e2e

TYPED = "Quokka-Zebra typed 5521"
PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


async def one_session(server: ServerProcess, account: Account) -> str:
    async def listed() -> str | None:
        status, body = await api_get(
            server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        assert status == 200, body
        sessions = body["sessions"]  # type: ignore[index]
        return str(sessions[0]["id"]) if sessions else None

    sid: str = await wait_for(listed)
    return sid


async def test_text_typed_into_contenteditable_is_stored_masked(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = f"""<!doctype html><html><head><title>Comments</title></head><body>
  <h1>Leave a comment</h1>
  <div id="editor" contenteditable="true" style="min-height:40px"></div>
  <div id="plain" contenteditable="plaintext-only" style="min-height:40px"></div>
  <script src="{replay_server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(client_site.url + "/")
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    for selector in ("#editor", "#plain"):
        await page.click(selector)
        await page.keyboard.type(TYPED)
        await page.keyboard.press("Enter")
        await page.keyboard.type(TYPED)
    assert TYPED in await page.inner_text("#editor")
    await page.wait_for_timeout(1500)
    await context.close()  # pagehide: the rest is sent and chunked on disconnect

    sid = await one_session(replay_server, account)
    await asyncio.sleep(1.0)
    status, body = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}/events")
    assert status == 200
    served = json.dumps(body)
    assert "Leave a comment" in served  # the page itself was recorded
    assert "************ ***** ****" in served  # and what was typed, masked
    everything = stored_bytes(replay_server.data_dir)
    assert b"Leave a comment" in everything
    for part in (TYPED, "Quokka", "5521"):
        assert part not in served, f"{part} served by the API"
        assert part.encode() not in everything, f"{part} stored"


@dataclass
class PixelServer:
    """A third-party host named by the recording: notes the Referer of each request."""

    url: str
    seen: list[tuple[str, str | None]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def serve_pixels() -> AsyncIterator[PixelServer]:
    port = free_port()
    pixels = PixelServer(f"http://127.0.0.1:{port}")

    async def pixel(request: web.Request) -> web.Response:
        pixels.seen.append((request.path, request.headers.get("Referer")))
        return web.Response(body=PIXEL, content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", pixel)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield pixels
    finally:
        await runner.cleanup()


async def test_a_replay_sends_no_referrer_whatever_the_recording_says(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    async with serve_pixels() as pixels:
        inner = (
            '<meta name="referrer" content="unsafe-url">'
            f'<img src="{pixels.url}/srcdoc.png" referrerpolicy="unsafe-url">'
        )
        client_site.pages["/"] = f"""<!doctype html><html><head>
  <meta name="referrer" content="unsafe-url"><title>Tracked</title></head><body>
  <h1>Tracked page</h1>
  <img referrerpolicy="unsafe-url" src="{pixels.url}/pixel.png" width="10" height="10">
  <iframe srcdoc='{inner}' width="50" height="50"></iframe>
  <script src="{replay_server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(client_site.url + "/")
        await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
        await page.wait_for_timeout(1500)
        await context.close()
        # the live page sent its own URL, as it asked: the recording is faithful
        assert any(path == "/pixel.png" and ref for path, ref in pixels.seen), pixels.seen
        sid = await one_session(replay_server, account)
        pixels.seen.clear()

        player = await login(browser, replay_server, account)
        response = await player.goto(f"{replay_server.url}/sessions/{sid}")  # plays
        assert response is not None
        assert response.headers.get("referrer-policy") == "no-referrer"

        async def replay_loaded_images() -> bool:
            paths = {path for path, _ in pixels.seen}
            return {"/pixel.png", "/srcdoc.png"} <= paths

        await wait_for(replay_loaded_images)  # the replay did ask the third party
        await player.wait_for_timeout(500)
        await player.context.close()
    leaked = [(path, ref) for path, ref in pixels.seen if ref]
    assert leaked == [], f"the replay sent a Referer: {leaked}"
