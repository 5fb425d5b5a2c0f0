"""recorder.js against a server that cannot make data durable (1013, disk
full): it keeps what was not acked and reconnects with a growing delay, not
every few hundred milliseconds (each reconnect is a hello the server must
answer). The server here is a stand-in that speaks protocol v1 and refuses
every batch, so the test needs no full disk."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import msgpack
import pytest
from aiohttp import WSMsgType, web
from playwright.async_api import Browser

from tests.procs import free_port

pytestmark = pytest.mark.e2e

RECORDER = Path(__file__).resolve().parents[2] / "replay_server" / "static" / "recorder.js"
CONFIG = {
    "record": True,
    "sampleRate": 1.0,
    "maskAllInputs": True,
    "maskAllText": False,
    "blockSelector": "",
    "maskTextSelector": "",
    "batchMs": 200,
    "mousemoveSampleMs": 50,
}


async def test_a_recorder_backs_off_while_the_server_is_unavailable(browser: Browser) -> None:
    hellos: list[float] = []
    refused: list[int] = []
    loop = asyncio.get_running_loop()

    async def ingest(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                break
            frame = msgpack.unpackb(msg.data)
            if frame["t"] == "hello":
                hellos.append(loop.time())
                welcome = {"t": "welcome", "sid": frame["sid"], "acked": -1, "config": CONFIG}
                await ws.send_bytes(msgpack.packb(welcome))
            elif frame["t"] == "batch":
                refused.append(frame["seq"])
                error = {"t": "error", "code": "storage_unavailable", "message": "disk full"}
                await ws.send_bytes(msgpack.packb(error))
                await ws.close(code=1013, message=b"storage_unavailable")
        return ws

    async def page(request: web.Request) -> web.Response:
        html = (
            "<!doctype html><html><body><p>Shop</p>"
            '<script src="/recorder.js" data-site-key="pk_aaaaaaaaaaaaaaaaaaaaaaaa"></script>'
            "</body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def recorder(request: web.Request) -> web.FileResponse:
        return web.FileResponse(RECORDER)

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/recorder.js", recorder)
    app.router.add_get("/ingest/ws", ingest)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    context = await browser.new_context()
    try:
        tab = await context.new_page()
        await tab.goto(f"http://127.0.0.1:{port}/")
        await tab.wait_for_timeout(8000)
        assert refused and min(refused) == 0  # the first batch, resent each time
        # Without a growing delay (a welcome resets the ordinary backoff) this
        # was ~30 hellos in 8 s; with it at most one every second.
        assert 2 <= len(hellos) <= 8, hellos
        gaps = [b - a for a, b in itertools.pairwise(hellos)]
        assert all(gap >= 0.9 for gap in gaps), gaps
    finally:
        await context.close()
        await runner.cleanup()
