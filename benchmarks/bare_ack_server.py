"""The ceiling for benchmarks/ingest_load.py: an aiohttp WebSocket server that
only msgpack-decodes each frame and acks it (no validation, no durability),
with the same garbage-collector tuning as `replay-server serve`."""

from __future__ import annotations

import gc
import sys

import msgpack
from aiohttp import WSMsgType, web


async def handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type != WSMsgType.BINARY:
            break
        message = msgpack.unpackb(msg.data)
        if message.get("t") == "hello":
            reply = {"t": "welcome", "sid": message.get("sid"), "acked": -1, "config": {}}
        else:
            reply = {"t": "ack", "seq": message.get("seq")}
        await ws.send_bytes(msgpack.packb(reply))
    return ws


async def tune_gc(_app: web.Application) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def main() -> None:
    app = web.Application()
    app.router.add_get("/ws", handler)
    app.on_startup.append(tune_gc)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
