"""Rates, caps and timeouts of the ingest endpoints (docs/protocol.md, "Limits,
timeouts and caps"): fairness per session and per site, per-IP limits only for
abuse, and every refusal a documented error."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from aiohttp.test_utils import TestServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.ingest_server import ORIGIN, IngestServer, Recorder, start_ingest_server
from tests.rrweb_events import mouse_move, now_ms, page_events

Server = Callable[..., Awaitable[TestServer]]


async def closed_with(rec: Recorder) -> tuple[dict[str, Any], int]:
    """The error frame a recorder got, and the close code that followed."""
    error = await rec.recv()
    assert rec.ws is not None
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(rec.ws.recv(), 10)
    assert rec.ws.close_code is not None
    return error, rec.ws.close_code


async def test_a_thousand_sessions_behind_one_address_are_not_rate_limited(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    """A carrier NAT: 1,000 visitors share 127.0.0.1, each sending a batch a second,
    under the default limits."""
    ingest = await start_ingest_server(tmp_path / "d", aiohttp_server)
    recorders = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(1000)]
    try:
        welcomes = await asyncio.gather(*(r.connect() for r in recorders))
        assert all(w["t"] == "welcome" for w in welcomes)
        t = now_ms()
        for seq in range(3):
            started = time.monotonic()
            await asyncio.gather(
                *(
                    r.batch(seq, page_events(t) if seq == 0 else [mouse_move(t + seq)])
                    for r in recorders
                )
            )
            acks = await asyncio.gather(*(r.recv() for r in recorders))
            assert all(a == {"t": "ack", "seq": seq} for a in acks), [
                a for a in acks if a["t"] != "ack"
            ][:3]
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    finally:
        await asyncio.gather(*(r.close() for r in recorders))


async def test_one_abusive_session_is_limited_and_others_of_its_site_are_not(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(
        tmp_path / "d",
        aiohttp_server,
        rate_per_session=1.0,
        rate_burst_per_session=10.0,
        rate_max_wait_seconds=0.0,
    )
    abuser, polite = (Recorder(ingest.ws_url, ingest.site_key) for _ in range(2))
    await abuser.connect()  # the hello is the session's first message
    await polite.connect()
    t = now_ms()
    for seq in range(30):
        await abuser.batch(seq, [mouse_move(t + seq)])
    replies = []
    while not replies or replies[-1]["t"] == "ack":
        replies.append(await abuser.recv())
    acked = [r["seq"] for r in replies[:-1]]
    assert acked == list(range(len(acked))) and 9 <= len(acked) <= 10  # burst 10, hello first
    assert replies[-1]["code"] == "rate_limited"
    assert abuser.ws is not None
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(abuser.ws.recv(), 10)
    assert abuser.ws.close_code == 4429
    for seq in range(5):  # same site, same address, its own pace
        await polite.batch(seq, [mouse_move(t + seq)])
        assert await polite.recv() == {"t": "ack", "seq": seq}
        await asyncio.sleep(0.25)
    await polite.close()


async def test_a_session_over_its_rate_is_slowed_not_refused(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(
        tmp_path / "d", aiohttp_server, rate_per_session=20.0, rate_burst_per_session=5.0
    )
    rec = Recorder(ingest.ws_url, ingest.site_key)
    await rec.connect()
    t = now_ms()
    started = time.monotonic()
    for seq in range(30):
        await rec.batch(seq, [mouse_move(t + seq)])
    for seq in range(30):
        assert await rec.recv() == {"t": "ack", "seq": seq}
    assert time.monotonic() - started > 1.0  # (1 hello + 30 batches - 5 burst) / 20 per s
    await rec.close()


async def post(ingest: IngestServer, rec: Recorder, batches: list[dict[str, Any]]) -> Any:
    hello = {k: v for k, v in rec.hello().items() if k != "t"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{ingest.http_url}/ingest/batch",
            data=json.dumps({"hello": hello, "batches": batches}),
            headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        ) as r,
    ):
        return r.status, await r.json()


async def test_the_http_fallback_charges_its_site_after_the_hello_and_a_refusal_spends_nothing(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(
        tmp_path / "d",
        aiohttp_server,
        rate_per_site=1e-6,
        rate_burst_per_site=6.0,
        rate_per_session=0.0,
    )
    rec = Recorder(ingest.ws_url, ingest.site_key)
    t = now_ms()

    def batches(first: int, n: int) -> list[dict[str, Any]]:
        return [
            {"seq": s, "page": 0, "events": page_events(t) if s == 0 else [mouse_move(t + s)]}
            for s in range(first, first + n)
        ]

    assert (await post(ingest, rec, batches(0, 3)))[0] == 200  # 4 messages of the site's 6
    status, body = await post(ingest, rec, batches(3, 3))  # 4 more: over
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    status, body = await post(ingest, rec, batches(3, 1))  # the refusal spent nothing: 2 fit
    assert (status, body["acked"]) == (200, 3)
    assert (await post(ingest, rec, []))[0] == 429


async def test_hello_and_idle_timeouts_close_with_4408(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(
        tmp_path / "d", aiohttp_server, hello_timeout_seconds=0.5, ws_idle_timeout_seconds=1.0
    )
    silent = Recorder(ingest.ws_url, ingest.site_key)
    silent.ws = await connect(ingest.ws_url, origin=ORIGIN)  # type: ignore[arg-type]
    error, code = await closed_with(silent)
    assert (error["code"], code) == ("hello_timeout", 4408)

    quiet = Recorder(ingest.ws_url, ingest.site_key)
    await quiet.connect()
    await quiet.batch(0, page_events(now_ms()))
    assert (await quiet.recv())["t"] == "ack"
    started = time.monotonic()
    error, code = await closed_with(quiet)  # heartbeat pongs do not count as frames
    assert (error["code"], code) == ("idle_timeout", 4408)
    assert 0.8 < time.monotonic() - started < 5


async def test_a_frame_before_the_welcome_is_hello_sized(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(tmp_path / "d", aiohttp_server)
    rec = Recorder(ingest.ws_url, ingest.site_key)
    rec.ws = await connect(ingest.ws_url, origin=ORIGIN)  # type: ignore[arg-type]
    await rec.ws.send(msgpack.packb({**rec.hello(), "title": "x" * 100_000}))
    error, code = await closed_with(rec)
    assert (error["code"], code) == ("frame_too_large", 4413)


async def forwarded(ingest: IngestServer, address: str) -> Recorder:
    rec = Recorder(ingest.ws_url, ingest.site_key)
    rec.ws = await connect(
        ingest.ws_url,
        origin=ORIGIN,  # type: ignore[arg-type]
        additional_headers={"X-Forwarded-For": address},
    )
    with contextlib.suppress(ConnectionClosed):  # a refused one may be closed already
        await rec.send(rec.hello())
    return rec


async def test_recorder_connections_per_forwarded_address_are_capped(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    """Behind a trusted proxy every visitor arrives from the proxy: the cap counts
    the forwarded address."""
    ingest = await start_ingest_server(
        tmp_path / "d", aiohttp_server, trusted_proxies="127.0.0.1", max_connections_per_ip=3
    )
    held = [await forwarded(ingest, "203.0.113.7") for _ in range(3)]
    assert [(await r.recv())["t"] for r in held] == ["welcome"] * 3
    over = await forwarded(ingest, "203.0.113.7")
    error, code = await closed_with(over)
    assert (error["code"], code) == ("too_many_connections", 4429)
    other = await forwarded(ingest, "198.51.100.2")
    assert (await other.recv())["t"] == "welcome"
    await held[0].close()
    await asyncio.sleep(0.2)
    again = await forwarded(ingest, "203.0.113.7")  # a slot came free
    assert (await again.recv())["t"] == "welcome"
    for r in [*held, other, again]:
        await r.close()


async def test_new_connections_per_address_are_rate_limited(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    ingest = await start_ingest_server(
        tmp_path / "d", aiohttp_server, rate_connects_per_ip=1e-6, rate_burst_connects_per_ip=2.0
    )
    recorders = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(3)]
    assert (await recorders[0].connect())["t"] == "welcome"
    assert (await recorders[1].connect())["t"] == "welcome"
    recorders[2].ws = await connect(ingest.ws_url, origin=ORIGIN)  # type: ignore[arg-type]
    with contextlib.suppress(ConnectionClosed):
        await recorders[2].send(recorders[2].hello())
    error, code = await closed_with(recorders[2])
    assert (error["code"], code) == ("rate_limited", 4429)
    for r in recorders:
        await r.close()
