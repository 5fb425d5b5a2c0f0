"""Several nodes on one database and one blob store: a recorder moves between
nodes and every batch is stored exactly once, whatever order the nodes store
their spools in; chunk indexes never collide; ACK_MODE=storage keeps no acked
batch on a node's disk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from replay_server import keys
from replay_server.chunks.format import decode_chunk
from replay_server.db.models import Chunk, RecordedSession
from replay_server.spool.records import RawEntry, SpoolEntry
from tests.conftest import BOTH_DATABASES
from tests.ingest_server import (
    IngestServer,
    Recorder,
    start_another_node,
    start_ingest_server,
)
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = BOTH_DATABASES

Server = Callable[..., Awaitable[TestServer]]


def batch_events(seq: int, t0: int) -> list[dict[str, Any]]:
    return page_events(t0, items=1) if seq == 0 else [mouse_move(t0 + seq * 10, x=seq)]


async def send(rec: Recorder, seqs: range | list[int], t0: int) -> int:
    ack = -1
    for seq in seqs:
        await rec.batch(seq, batch_events(seq, t0))
        reply = await rec.recv()
        assert reply["t"] == "ack", reply
        ack = reply["seq"]
    return ack


async def two_nodes(
    tmp_path: Path, aiohttp_server: Server, database_url: str, **overrides: Any
) -> tuple[IngestServer, IngestServer]:
    shared = (tmp_path / "blobs").as_uri()
    a = await start_ingest_server(
        tmp_path / "a",
        aiohttp_server,
        database_url=database_url,
        storage_url=shared,
        chunk_max_age_seconds=3600.0,
        **overrides,
    )
    b = await start_another_node(a, tmp_path / "b", aiohttp_server)
    return a, b


async def stored_xs(node: IngestServer, sid: str) -> list[int]:
    """Mouse-move x (= batch seq) of every stored chunk, in (page, time) order."""
    async with node.app[keys.DB]() as db:
        chunks = list(await db.scalars(select(Chunk).where(Chunk.session_id == sid)))
    assert len({c.idx for c in chunks}) == len(chunks)
    assert len({c.blob_key for c in chunks}) == len(chunks)
    events: list[tuple[int, dict[str, Any]]] = []
    for chunk in chunks:
        blob = await node.app[keys.BLOBS].get(chunk.blob_key)
        events.extend((chunk.page, e) for e in decode_chunk(blob))
    events.sort(key=lambda pe: (pe[0], pe[1]["timestamp"]))
    return [e["data"]["positions"][0]["x"] for _, e in events if _is_move(e)]


def read_xs(events: list[dict[str, Any]]) -> list[int]:
    return [e["data"]["positions"][0]["x"] for e in events if _is_move(e)]


def _is_move(event: dict[str, Any]) -> bool:
    return bool(event["type"] == 3 and event["data"]["source"] == 1)


async def cut(node: IngestServer, sid: str) -> None:
    ingestor = node.app[keys.INGESTOR]
    await ingestor.cut(ingestor.sessions[sid])


@pytest.mark.parametrize("first_to_store", ["a", "b"])
async def test_resent_batches_on_another_node_are_stored_once(
    tmp_path: Path, aiohttp_server: Server, database_url: str, first_to_store: str
) -> None:
    a, b = await two_nodes(tmp_path, aiohttp_server, database_url)
    t0 = now_ms()
    rec = Recorder(a.ws_url, a.site_key)
    await rec.connect()
    assert await send(rec, range(5), t0) == 4  # acked by A, still only in A's spool

    # Cut off from A (A has not noticed yet) and the acks were lost: the recorder
    # resends 0..4 to B, then goes on.
    rec_b = Recorder(b.ws_url, b.site_key, sid=rec.sid, vid=rec.vid)
    assert (await rec_b.connect())["acked"] == -1  # B knows only the database
    assert await send(rec_b, range(8), t0) == 7

    order = (a, b) if first_to_store == "a" else (b, a)
    await cut(order[0], rec.sid)
    # The other node's spool still holds some of what is now stored: read once.
    assert read_xs(await order[1].events(rec.sid)) == list(range(1, 8))
    await cut(order[1], rec.sid)
    await rec.close()
    await rec_b.close()
    assert await stored_xs(a, rec.sid) == list(range(1, 8))
    assert read_xs(await b.events(rec.sid)) == list(range(1, 8))
    async with a.app[keys.DB]() as db:
        session = await db.get(RecordedSession, rec.sid)
    assert session is not None and session.chunked_seq == 7


async def test_recorder_moving_back_and_forth_fills_every_gap(
    tmp_path: Path, aiohttp_server: Server, database_url: str
) -> None:
    a, b = await two_nodes(tmp_path, aiohttp_server, database_url)
    t0 = now_ms()
    on_a = Recorder(a.ws_url, a.site_key)
    await on_a.connect()
    await send(on_a, range(4), t0)  # 0..3 in A's spool
    on_b = Recorder(b.ws_url, b.site_key, sid=on_a.sid, vid=on_a.vid)
    await on_b.connect()
    await send(on_b, range(4, 7), t0)  # 0..3 were acked, so dropped: 4..6 to B
    await cut(b, on_a.sid)  # B stores 4..6 first
    back = Recorder(a.ws_url, a.site_key, sid=on_a.sid, vid=on_a.vid)
    assert (await back.connect())["acked"] == 6  # A learns from the database what B stored
    await send(back, [7, 8], t0)
    await cut(a, on_a.sid)  # A's spool: 0..3 and 7..8, around B's chunk
    for rec in (on_a, on_b, back):
        await rec.close()
    assert await stored_xs(a, on_a.sid) == list(range(1, 9))


async def test_recovery_keeps_spooled_batches_below_another_nodes_chunks(
    tmp_path: Path, aiohttp_server: Server, database_url: str
) -> None:
    """A dies with acked batches in its spool; B stores later ones (and resends of
    some); A restarts on its disk and recovers its own, nothing twice."""
    a, b = await two_nodes(tmp_path, aiohttp_server, database_url)
    t0 = now_ms()
    rec = Recorder(a.ws_url, a.site_key)
    await rec.connect()
    await send(rec, range(5), t0)
    a.app[keys.INGESTOR].sessions.clear()  # a crash: shutdown cannot chunk them
    await rec.close()
    await a.server.close()

    rec.url = b.ws_url
    await rec.connect()
    await send(rec, range(3, 9), t0)  # 3 and 4 resent (their acks were lost)
    await rec.close()
    await cut(b, rec.sid)
    restarted = await start_another_node(a, tmp_path / "a", aiohttp_server)
    assert await stored_xs(restarted, rec.sid) == list(range(1, 9))
    assert not list((tmp_path / "a" / "spool").glob("*.spool"))  # recovered, removed


async def test_storage_ack_mode_needs_no_node_disk(
    tmp_path: Path, aiohttp_server: Server, database_url: str
) -> None:
    a, b = await two_nodes(tmp_path, aiohttp_server, database_url, ack_mode="storage")
    t0 = now_ms()
    rec = Recorder(a.ws_url, a.site_key)
    await rec.connect()
    await send(rec, range(4), t0)
    assert await stored_xs(a, rec.sid) == [1, 2, 3]  # stored before it was acked
    assert a.app[keys.INGESTOR].pending_batch_count() == 0
    await rec.close()

    rec.url = b.ws_url
    assert (await rec.connect())["acked"] == 3
    assert await send(rec, [3, 4], t0) == 4  # 3 is a resend: acked, not stored again
    await rec.close()
    assert await stored_xs(b, rec.sid) == [1, 2, 3, 4]
    assert read_xs(await a.events(rec.sid)) == [1, 2, 3, 4]


async def test_concurrent_stores_of_the_same_batches_store_them_once(
    tmp_path: Path, aiohttp_server: Server, database_url: str
) -> None:
    """Two nodes store the same seqs at the same moment: the transaction that
    records chunks under the session's row lock lets one win; the other drops them."""
    a, b = await two_nodes(tmp_path, aiohttp_server, database_url)
    rec = Recorder(a.ws_url, a.site_key)
    await rec.connect()
    await rec.close()
    t0 = now_ms()
    batches = [
        RawEntry.of(SpoolEntry(a.site_id, rec.sid, seq, 0, batch_events(seq, t0)))
        for seq in range(6)
    ]
    results = await asyncio.gather(
        *(node.app[keys.INGESTOR].writer.store(rec.sid, batches) for node in (a, b, a, b))
    )
    assert sorted(len(r.chunks) for r in results) == [0, 0, 0, 1]
    assert await stored_xs(b, rec.sid) == list(range(1, 6))
    blob_files = [p for p in (tmp_path / "blobs").rglob("*.rsc")]
    assert len(blob_files) == 1  # the losers deleted their blobs
