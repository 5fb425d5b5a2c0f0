"""A full disk, for real: a `replay-server serve` process whose data directory
(spool and local blobs) is a small tmpfs that the test fills up and frees.

Twice: with the SQLite database on the ordinary disk (REPLAY_DATABASE_URL),
which isolates what the spool and the blob store do, so recorders still get
their welcome and the batch path answers; and with everything on the full
disk, as a default single-node install has it (then a hello can fail too:
its database write is refused, and it is answered 1013 like a batch).

Invariants: while the disk is full, batches are refused with `error` +
1013 (storage_unavailable), never acked and never left hanging; acks come
back within 5 s of space returning, without a restart; after a kill -9 and a
restart every acked batch reads back exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from tests.diskfull import fill, small_tmpfs
from tests.ingest.test_crash_and_restart import stored_xs
from tests.ingest_server import ORIGIN, Recorder
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


async def spool_write_failures(server: ServerProcess) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/metrics") as response:
        text = await response.text()
    (line,) = [x for x in text.splitlines() if x.startswith("replay_spool_write_failures_total")]
    return float(line.split()[-1])


async def http_fallback_status(server: ServerProcess, stream: Stream) -> tuple[int, str]:
    """POST the next batch as the HTTP fallback does: (status, error code)."""
    seq = stream.acked + 1
    hello = {k: v for k, v in stream.rec.hello().items() if k != "t"}
    body = msgpack.packb(
        {"hello": hello, "batches": [{"seq": seq, "page": 0, "events": events(seq, stream.t0)}]}
    )
    headers = {"Content-Type": "application/msgpack", "Origin": ORIGIN}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/ingest/batch", data=body, headers=headers) as response,
    ):
        return response.status, (await response.json())["error"]["code"]


def unreferenced_blobs(blobs: Path, db_path: Path) -> set[str]:
    files = {str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()}
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        keys = {row[0] for row in db.execute("SELECT blob_key FROM chunks")}
    return files - keys


class Stream:
    """A recorder as recorder.js behaves: resends everything not acked after
    each reconnect; `acked` is the highest seq the server acked."""

    def __init__(self, server: ServerProcess, site_key: str) -> None:
        self.rec = Recorder(ws_url(server), site_key)
        self.t0 = now_ms()
        self.acked = -1
        self.welcome_acked = -1
        self.closes: list[tuple[int | None, dict[str, Any] | None]] = []

    async def connect(self, server: ServerProcess) -> bool:
        """False when the hello was refused (the error and close are in `closes`)."""
        self.rec.url = ws_url(server)
        welcome = await self.rec.connect()
        if welcome["t"] == "error":
            await self._closed_after(welcome)
            return False
        assert welcome["t"] == "welcome", welcome
        # It may be lower than an ack seen (docs/protocol.md): a node restarted
        # on a full disk still holds those batches in its spool, not chunked
        # yet. Like recorder.js, never resend what was acked.
        self.welcome_acked = welcome["acked"]
        self.acked = max(self.acked, welcome["acked"])
        return True

    async def _closed_after(self, reply: dict[str, Any] | None) -> None:
        if reply is not None:
            # The error frame comes first, then the close.
            with pytest.raises(ConnectionClosed):
                await self.rec.recv()
        assert self.rec.ws is not None
        self.closes.append((self.rec.ws.close_code, reply))
        await self.rec.close()

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
            await self._closed_after(reply)
            return False
        return True


@pytest.mark.parametrize("database", ["elsewhere", "on-the-full-disk"])
async def test_full_disk_refuses_then_recovers_and_loses_no_acked_batch(
    tmp_path: Path, disk: Path, database: str
) -> None:
    data_dir = disk  # its log goes next to it, on the ordinary disk
    env = {
        # Cut often, so the blob store meets the full disk too.
        "REPLAY_CHUNK_MAX_AGE_SECONDS": "1",
        "REPLAY_INGEST_WORKERS": "0",
    }
    # A hello whose database write fails (SQLite on the full disk) is refused
    # the same way: retryable, not a server error.
    refusals = {(1013, "storage_unavailable")}
    if database == "elsewhere":
        env["REPLAY_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    server = start_server(data_dir, **env)
    try:
        site_key, token = create_site_and_token(server, ORIGIN)
        stream = Stream(server, site_key)
        assert await stream.connect(server)
        assert await stream.send_up_to(20)

        filler = disk / "filler"
        fill(filler)
        # Full: the next batch is refused with storage_unavailable and 1013,
        # promptly (not a hang), and so is every resend while it stays full.
        refused_at = time.monotonic()
        for _ in range(3):
            welcomed = stream.rec.ws is not None or await stream.connect(server)
            if welcomed:
                assert not await asyncio.wait_for(stream.send_up_to(40), 10)
            await asyncio.sleep(0.3)
        assert time.monotonic() - refused_at < 15
        assert stream.closes
        for code, reply in stream.closes:
            assert reply is not None and reply["t"] == "error", stream.closes
            assert (code, reply["code"]) in refusals, stream.closes
        assert (1013, "storage_unavailable") in {(c, r and r["code"]) for c, r in stream.closes}
        assert await spool_write_failures(server) >= 1
        if database == "elsewhere":
            assert await http_fallback_status(server, stream) == (503, "storage_unavailable")
        acked_before_freeing = stream.acked

        filler.unlink()
        freed = time.monotonic()
        while True:
            # A recorder's quick reconnect (recorder.js: random backoff up to 0.5 s
            # after a welcome).
            await asyncio.sleep(0.2)
            if await stream.connect(server) and await stream.send_up_to(stream.acked + 1):
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
        assert await stream.connect(restarted)
        assert stream.welcome_acked == 60
        await stream.rec.close()
        assert await stored_xs(restarted, token, stream.rec.sid) == list(range(1, 61))
        # Failed cuts left no blob behind that no chunk row points to.
        db_path = tmp_path / "replay.db" if database == "elsewhere" else disk / "replay.db"
        assert unreferenced_blobs(disk / "blobs", db_path) == set()
    finally:
        stop_server(restarted)


async def test_server_starts_on_a_full_disk_after_kill_9(tmp_path: Path, disk: Path) -> None:
    """Killed while the disk is full, restarted while it still is: the server
    starts (what it cannot chunk yet stays in the spool), refuses batches
    until space returns, and nothing acked is lost."""
    env = {"REPLAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"}
    server = start_server(disk, **env)
    try:
        site_key, token = create_site_and_token(server, ORIGIN)
        stream = Stream(server, site_key)
        assert await stream.connect(server)
        assert await stream.send_up_to(20)
        filler = disk / "filler"
        fill(filler)
        assert not await asyncio.wait_for(stream.send_up_to(30), 10)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    finally:
        stop_server(server, signal.SIGKILL)

    restarted = start_server(disk, **env)  # raises if it exits
    try:
        assert await stream.connect(restarted)
        assert not await asyncio.wait_for(stream.send_up_to(30), 10)
        assert stream.closes[-1][0] == 1013, stream.closes
        filler.unlink()
        freed = time.monotonic()
        while not (await stream.connect(restarted) and await stream.send_up_to(30)):
            assert time.monotonic() - freed < RECOVERY_SECONDS, stream.closes
            await asyncio.sleep(0.2)
        await stream.rec.close()
    finally:
        stop_server(restarted)
    again = start_server(disk, **env)
    try:
        assert await stored_xs(again, token, stream.rec.sid) == list(range(1, 31))
    finally:
        stop_server(again)
