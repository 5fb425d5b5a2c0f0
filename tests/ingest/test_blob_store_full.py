"""The blob store full (its own small disk) while the spool still writes:
cuts fail, the backlog reaches REPLAY_MAX_PENDING_BYTES, and recorders are
told to come back later (1013) instead of waiting for an ack that cannot come.
Once space returns the backlog is stored and acks come again; nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from websockets.exceptions import ConnectionClosed

from replay_server.ingest import ingestor as ingestor_module
from tests.diskfull import fill, small_tmpfs
from tests.ingest_server import Recorder, start_ingest_server
from tests.rrweb_events import mouse_move, now_ms, page_events


async def test_a_full_blob_store_refuses_batches_as_retryable_then_recovers(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingestor_module, "BACKLOG_WAIT_SECONDS", 1.0)
    with small_tmpfs(tmp_path / "blobs", "1m") as blobs:
        filler = blobs / "filler"
        fill(filler)
        ingest = await start_ingest_server(
            tmp_path / "data",
            aiohttp_server,
            storage_url=blobs.as_uri(),
            max_pending_bytes=1,
            ingest_workers=0,
        )
        rec = Recorder(ingest.ws_url, ingest.site_key)
        await rec.connect()
        t0 = now_ms()
        await rec.batch(0, page_events(t0))
        assert (await rec.recv())["seq"] == 0  # the backlog was empty
        await rec.batch(1, [mouse_move(t0 + 10, x=1)])
        reply = await rec.recv()
        assert reply == {"t": "error", "code": "storage_unavailable", "message": reply["message"]}
        with pytest.raises(ConnectionClosed):
            await rec.recv()
        assert rec.ws is not None and rec.ws.close_code == 1013

        filler.unlink()
        rec2 = Recorder(ingest.ws_url, ingest.site_key, sid=rec.sid, vid=rec.vid)
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # as recorder.js does: reconnect, resend what was not acked
            welcome = await rec2.connect()
            await rec2.batch(1, [mouse_move(t0 + 10, x=1)])
            reply = await rec2.recv()
            if reply["t"] == "ack":
                break
            assert asyncio.get_running_loop().time() < deadline, "acks never came back"
            await rec2.close()
            await asyncio.sleep(0.5)
        assert welcome["acked"] == 0 and reply["seq"] == 1
        await rec2.close()
        events = await ingest.events(rec.sid)
        assert len(events) == len(page_events(t0)) + 1
