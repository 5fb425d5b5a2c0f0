"""Two `replay-server serve` processes sharing PostgreSQL, S3 (moto's server
over HTTP) and Redis: a recorder streams to node A, A dies (kill -9), the
recorder resumes on node B; a live viewer on B watches all along. The stored
session ends up complete, ordered and without duplicates."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import fresh_postgres_database
from tests.ingest_server import ORIGIN, Recorder
from tests.procs import (
    ServerProcess,
    create_site_and_token,
    start_server,
    stop_server,
    ws_url,
)
from tests.rrweb_events import mouse_move, now_ms, page_events
from tests.services import AWS_ENV, S3Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3, pytest.mark.slow]

ON_A = 20  # seqs 0..19 go to node A
TOTAL = 40


@pytest.fixture
async def cluster_env(s3_server: S3Server, redis_url: str) -> AsyncIterator[dict[str, str]]:
    bucket = await asyncio.to_thread(s3_server.new_bucket)
    async with fresh_postgres_database() as database_url:
        yield {
            **AWS_ENV,
            "REPLAY_DATABASE_URL": database_url,
            "REPLAY_STORAGE_URL": f"s3://{bucket}/replay",
            "REPLAY_S3_ENDPOINT_URL": s3_server.endpoint_url,
            "REPLAY_REDIS_URL": redis_url,
        }


def batch_events(seq: int, t0: int) -> list[dict[str, Any]]:
    return page_events(t0, items=1) if seq == 0 else [mouse_move(t0 + seq * 10, x=seq)]


def xs(events: list[dict[str, Any]]) -> list[int]:
    return [
        e["data"]["positions"][0]["x"]
        for e in events
        if e["type"] == 3 and e["data"]["source"] == 1
    ]


def setup_site(server: ServerProcess) -> tuple[str, str]:
    return create_site_and_token(server, ORIGIN)


async def send(rec: Recorder, seqs: range | list[int], t0: int) -> int:
    ack = -1
    for seq in seqs:
        await rec.batch(seq, batch_events(seq, t0))
        reply = await rec.recv()
        assert reply["t"] == "ack", reply
        ack = reply["seq"]
    return ack


async def watch(http: aiohttp.ClientSession, url: str, token: str, seen: list[int]) -> None:
    """A live viewer: collects the x of every mouse move it is sent."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.ws_connect(url, headers=headers) as ws:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if frame["t"] == "events":
                    seen.extend(xs(frame["events"]))


async def stored(
    http: aiohttp.ClientSession, server: ServerProcess, token: str, sid: str
) -> list[int]:
    url = f"{server.url}/api/v1/sessions/{sid}/events"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return xs((await response.json())["events"])


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("ack_mode", ["spool", "storage"])
async def test_recorder_resumes_on_another_node(
    tmp_path: Path, cluster_env: dict[str, str], ack_mode: str
) -> None:
    env = {**cluster_env, "REPLAY_ACK_MODE": ack_mode}
    a = start_server(tmp_path / "a", **env)
    b = start_server(tmp_path / "b", **env)
    restarted: ServerProcess | None = None
    try:
        site_key, token = await asyncio.to_thread(setup_site, a)
        t0 = now_ms()
        rec = Recorder(ws_url(a), site_key)
        await rec.connect()
        async with aiohttp.ClientSession() as http:
            seen: list[int] = []
            live = f"{b.url.replace('http://', 'ws://')}/api/v1/sessions/{rec.sid}/live"
            viewer = asyncio.create_task(watch(http, live, token, seen))
            await asyncio.sleep(1.0)  # the viewer is subscribed on B
            assert await send(rec, range(ON_A), t0) == ON_A - 1
            # The viewer on B saw every batch A acked, through Redis.
            await until(lambda: _true(seen == list(range(1, ON_A))))

            a.process.send_signal(signal.SIGKILL)  # A dies, the recorder is cut off
            a.process.wait(timeout=30)
            await rec.close()

            on_b = Recorder(ws_url(b), site_key, sid=rec.sid, vid=rec.vid)
            welcome = await on_b.connect()
            # storage mode: every acked batch is in S3 + PostgreSQL; spool mode: in A's spool.
            assert welcome["acked"] == (ON_A - 1 if ack_mode == "storage" else -1)
            # The recorder resends from what it saw acked; say the last two acks were lost.
            assert await send(on_b, range(ON_A - 2, TOTAL), t0) == TOTAL - 1
            await on_b.close()
            await until(lambda: _true(seen == list(range(1, TOTAL))))

            if ack_mode == "spool":
                # A's acked batches are on A's disk until A comes back and recovers them.
                restarted = start_server(tmp_path / "a", **env)
            want = list(range(1, TOTAL))

            async def complete() -> bool:
                return await stored(http, b, token, rec.sid) == want

            await until(complete)
            viewer.cancel()
    finally:
        for server in (a, b, restarted):
            if server is not None:
                stop_server(server, signal.SIGKILL)


async def _true(value: bool) -> bool:
    return value
