"""Thousands of random and malformed frames at a live server; afterwards a
well-behaved recorder is served correctly and the server reports no crash."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from aiohttp.test_utils import TestServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.ingest_server import ORIGIN, Recorder, start_ingest_server
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = pytest.mark.slow

FRAMES = 3000
PROTOCOL_CLOSE_CODES = {4400, 4401, 4403, 4413, 4429}


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 5)
    if kind == 0:
        return rng.randrange(-(2**40), 2**40)
    if kind == 1:
        return rng.choice([None, True, False, 1.5, float("inf"), -0.0])
    if kind == 2:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.randbytes(rng.randrange(16))
    if kind == 4:
        return rng.choice(["hello", "batch", "bye", "pk_" + "x" * 24, str(uuid.uuid4())])
    if kind in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(
            [
                "t",
                "seq",
                "page",
                "events",
                "gz",
                "site",
                "sid",
                "type",
                "data",
                "timestamp",
                "node",
                "id",
            ]
        ): random_value(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def hostile_frame(rng: random.Random, site_key: str, t: int) -> bytes | str:
    sid = str(uuid.uuid4())
    hello = {
        "t": "hello",
        "v": 1,
        "site": site_key,
        "sid": sid,
        "vid": str(uuid.uuid4()),
        "page": 0,
        "url": ORIGIN + "/",
        "clock": t,
    }
    choice = rng.randrange(10)
    if choice == 0:
        return rng.randbytes(rng.randrange(1, 64))
    if choice == 1:
        return "text frame " + str(rng.random())
    if choice == 2:
        return msgpack.packb(random_value(rng))
    if choice == 3:
        bad = dict(hello)
        bad[rng.choice(list(bad))] = random_value(rng)
        return msgpack.packb(bad)
    if choice == 4:
        return msgpack.packb(
            {
                "t": "batch",
                "seq": rng.randrange(5),
                "page": 0,
                "events": [random_value(rng) for _ in range(3)],
            }
        )
    if choice == 5:
        head = b"".join(msgpack.packb(v) for v in ("t", "batch", "seq", 0, "page", 0, "events"))
        return b"\x84" + head + b"\x91" * rng.randrange(100, 5000) + b"\xc0"  # deep nesting
    if choice == 6:
        return msgpack.packb({"t": "batch", "seq": 0, "page": 0, "gz": rng.randbytes(40)})
    if choice == 7:
        return msgpack.packb({"t": "hello", "site": "x" * rng.randrange(10_000)})
    if choice == 8:
        return msgpack.packb(
            {"t": "batch", "seq": -rng.randrange(1, 99), "page": 0, "events": page_events(t)}
        )
    return msgpack.packb(hello)[: rng.randrange(1, 40)]  # truncated msgpack


async def test_random_frames_then_a_good_recorder(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    server = await start_ingest_server(tmp_path / "d", aiohttp_server, rate_per_ip=0.0)
    t = now_ms()
    close_codes: dict[int, int] = {}

    async def attacker(seed: int, frames: int) -> None:
        rng = random.Random(seed)  # one generator each: the same frames whatever the timing
        sent = 0
        while sent < frames:
            async with connect(server.ws_url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
                try:
                    while sent < frames:
                        sent += 1
                        await ws.send(hostile_frame(rng, server.site_key, t))
                        # Some frames want no reply (e.g. a random "bye").
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(ws.recv(), 2)
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else -1
                    close_codes[code] = close_codes.get(code, 0) + 1

    await asyncio.gather(*(attacker(20261128 + i, FRAMES // 10) for i in range(10)))
    assert set(close_codes) <= PROTOCOL_CLOSE_CODES | {1000}, close_codes
    assert sum(close_codes.values()) > FRAMES // 4

    rec = Recorder(server.ws_url, server.site_key)
    assert (await rec.connect())["acked"] == -1
    await rec.batch(0, page_events(t))
    assert await rec.recv() == {"t": "ack", "seq": 0}
    await rec.batch(1, [mouse_move(t + 5)])
    assert await rec.recv() == {"t": "ack", "seq": 1}
    await rec.close()
    assert len(await server.events(rec.sid)) == len(page_events(t)) + 1
    async with aiohttp.ClientSession() as http:
        async with http.get(server.http_url + "/healthz") as r:
            assert r.status == 200
        async with http.get(server.http_url + "/metrics") as r:
            metrics = await r.text()
    assert 'replay_ingest_errors_total{code="invalid_message"}' in metrics
    assert 'code="server_error"' not in metrics
