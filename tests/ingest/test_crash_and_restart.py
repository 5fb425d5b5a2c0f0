"""Durability across process deaths: a real `replay-server serve` process is
killed with SIGKILL (or stopped with SIGTERM) mid-stream and restarted on the
same data directory; the recorder resumes and nothing acked is lost or doubled."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed

from tests.ingest_server import ORIGIN, Recorder
from tests.procs import (
    ServerProcess,
    create_site_and_token,
    start_server,
    stop_server,
    ws_url,
)
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = pytest.mark.slow

TOTAL = 60


def setup_site(server: ServerProcess) -> tuple[str, str]:
    return create_site_and_token(server, ORIGIN)


def batch_events(seq: int, t0: int) -> list[dict[str, Any]]:
    if seq == 0:
        return page_events(t0, items=1)
    return [mouse_move(t0 + seq * 10, x=seq)]


async def stream_until_cut(rec: Recorder, t0: int, first_seq: int) -> int:
    """Send batches as fast as acks come; return the last ack seen when the socket dies."""
    last_ack = first_seq - 1
    try:
        for seq in range(first_seq, TOTAL):
            await rec.batch(seq, batch_events(seq, t0))
            reply = await rec.recv()
            assert reply["t"] == "ack", reply
            last_ack = reply["seq"]
            await asyncio.sleep(0.01)
    except (TimeoutError, ConnectionClosed, OSError):
        pass
    return last_ack


async def stored_xs(server: ServerProcess, token: str, sid: str) -> list[int]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/api/v1/sessions/{sid}/events",
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        events = (await response.json())["events"]
    return [
        e["data"]["positions"][0]["x"]
        for e in events
        if e["type"] == 3 and e["data"]["source"] == 1
    ]


async def run_interrupted_stream(tmp_path: Path, sig: int) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        site_key, token = setup_site(server)
        rec = Recorder(ws_url(server), site_key)
        assert (await rec.connect())["acked"] == -1
        t0 = now_ms()
        streaming = asyncio.create_task(stream_until_cut(rec, t0, 0))
        await asyncio.sleep(0.4)  # mid-stream
        server.process.send_signal(sig)
        last_ack = await streaming
        if sig == signal.SIGTERM:
            assert rec.ws is not None and rec.ws.close_code == 1012
        server.process.wait(timeout=30)
        assert 0 <= last_ack < TOTAL - 1, "the interruption must land mid-stream"
    finally:
        stop_server(server, signal.SIGKILL)

    restarted = start_server(data_dir)
    try:
        rec2 = Recorder(ws_url(restarted), site_key, sid=rec.sid, vid=rec.vid)
        welcome = await rec2.connect()
        assert welcome["acked"] >= last_ack  # every acked batch survived
        # The recorder resends everything it never saw acked.
        for seq in range(last_ack + 1, TOTAL):
            await rec2.batch(seq, batch_events(seq, t0))
            assert (await rec2.recv())["seq"] == max(seq, welcome["acked"])
        await rec2.close()
        assert await stored_xs(restarted, token, rec.sid) == list(range(1, TOTAL))
    finally:
        stop_server(restarted)


async def test_kill_9_mid_stream_loses_no_acked_batch(tmp_path: Path) -> None:
    await run_interrupted_stream(tmp_path, signal.SIGKILL)


async def test_sigterm_closes_with_1012_and_nothing_is_lost(tmp_path: Path) -> None:
    await run_interrupted_stream(tmp_path, signal.SIGTERM)
