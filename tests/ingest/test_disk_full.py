"""A full disk, for real: a `replay-server serve` process whose data directory
(spool and local blobs) is a small tmpfs that the test fills up and frees.

The database is on the ordinary disk (REPLAY_DATABASE_URL): this isolates what
the spool and the blob store do on a full disk, and recorders can still say
hello, so what they see while it is full is the batch path's answer.

Invariants: while the disk is full, batches are refused with `error` +
1013 (storage_unavailable), never acked and never left hanging; acks come
back within 5 s of space returning, without a restart; after a kill -9 and a
restart every acked batch reads back exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.diskfull import fill, small_tmpfs
from tests.ingest.conftest import ORIGIN, Recorder
from tests.ingest.test_crash_and_restart import stored_xs
from tests.procs import ServerProcess, create_site_and_token, start_server, stop_server, ws_url
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 5.0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "4m") as mount:
        yield mount


def events(seq: int, t0: int) -> list[dict[str, Any]]:
    """A mouse move with x=seq (to check what reads back), padded with
    incompressible bytes so every batch needs fresh pages of the disk."""
    if seq == 0:
        return page_events(t0, items=1)
    pad = {
        "type": 5,
        "timestamp": t0 + seq * 10,
        "data": {"tag": "pad", "payload": os.urandom(3000).hex()},
    }
    return [mouse_move(t0 + seq * 10, x=seq), pad]


class Stream:
    """A recorder as recorder.js behaves: resends everything not acked after
    each reconnect; `acked` is the highest seq the server acked."""

    def __init__(self, server: ServerProcess, site_key: str) -> None:
        self.rec = Recorder(ws_url(server), site_key)
        self.t0 = now_ms()
        self.acked = -1
        self.closes: list[tuple[int | None, dict[str, Any] | None]] = []

    async def connect(self, server: ServerProcess) -> None:
        self.rec.url = ws_url(server)
        welcome = await self.rec.connect()
        assert welcome["t"] == "welcome", welcome
        assert welcome["acked"] >= self.acked, "an acked batch was lost"
        self.acked = welcome["acked"]

    async def send_up_to(self, last: int) -> bool:
        """Send acked+1..last one at a time; False when the server refused one
        (the error frame and close code are in `closes`)."""
        for seq in range(self.acked + 1, last + 1):
            await self.rec.batch(seq, events(seq, self.t0))
            try:
                reply = await self.rec.recv()
            except ConnectionClosed:
                reply = None
            if reply is not None and reply["t"] == "ack":
                assert reply["seq"] == seq
                self.acked = seq
                continue
            if reply is not None:
                # The error frame comes first, then the close.
                with pytest.raises(ConnectionClosed):
                    await self.rec.recv()
            assert self.rec.ws is not None
            self.closes.append((self.rec.ws.close_code, reply))
            await self.rec.close()
            return False
        return True


async def test_full_disk_refuses_then_recovers_and_loses_no_acked_batch(
    tmp_path: Path, disk: Path
) -> None:
    data_dir = disk  # its log goes next to it, on the ordinary disk
    env = {
        "REPLAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}",
        # Cut often, so the blob store meets the full disk too.
        "REPLAY_CHUNK_MAX_AGE_SECONDS": "1",
        "REPLAY_INGEST_WORKERS": "0",
    }
    server = start_server(data_dir, **env)
    try:
        site_key, token = create_site_and_token(server, ORIGIN)
        stream = Stream(server, site_key)
        await stream.connect(server)
        assert await stream.send_up_to(20)

        filler = disk / "filler"
        fill(filler)
        # Full: the next batch is refused with storage_unavailable and 1013,
        # promptly (not a hang), and so is every resend while it stays full.
        refused_at = time.monotonic()
        for _ in range(3):
            if stream.rec.ws is None:
                await stream.connect(server)
            assert not await asyncio.wait_for(stream.send_up_to(40), 10)
            await asyncio.sleep(0.3)
        assert time.monotonic() - refused_at < 15
        for code, reply in stream.closes:
            assert code == 1013, stream.closes
            assert reply is not None and reply["t"] == "error", stream.closes
            assert reply["code"] == "storage_unavailable", stream.closes
        acked_before_freeing = stream.acked

        filler.unlink()
        freed = time.monotonic()
        while True:
            # A recorder's quick reconnect (recorder.js: random backoff up to 0.5 s
            # after a welcome).
            await asyncio.sleep(0.2)
            await stream.connect(server)
            if await stream.send_up_to(stream.acked + 1):
                break
            assert time.monotonic() - freed < RECOVERY_SECONDS + 5, stream.closes
        recovered = time.monotonic() - freed
        assert recovered < RECOVERY_SECONDS, f"acks came back after {recovered:.1f} s"
        assert stream.acked > acked_before_freeing
        assert await stream.send_up_to(60)
        # Cuts that failed on the full disk left no partial blob behind to hold space.
        assert not list((disk / "blobs").rglob("*.tmp"))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    finally:
        stop_server(server, signal.SIGKILL)

    restarted = start_server(data_dir, **env)
    try:
        await stream.connect(restarted)
        assert stream.acked == 60
        await stream.rec.close()
        assert await stored_xs(restarted, token, stream.rec.sid) == list(range(1, 61))
    finally:
        stop_server(restarted)
