"""Reading a session back (chunks/reader.py) from real chunk rows and blobs on
disk: events in page and time order, filtered by page and window; a missing,
corrupt or quarantined chunk is skipped and reported, the rest still read."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from replay_server.chunks.cut import build_chunks
from replay_server.chunks.format import QUARANTINED
from replay_server.chunks.reader import SessionReader
from replay_server.chunks.rows import ChunkRecord, record_chunk_groups
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.spool.log import Spool
from replay_server.storage.local import LocalBlobStore
from tests.conftest import AddSession, Tenant
from tests.ingest.test_catalog import batches
from tests.rrweb_events import now_ms


async def stored_session(
    db: SessionFactory, blobs: LocalBlobStore, tenant: Tenant, add_session: AddSession
) -> tuple[str, list[int]]:
    """A session with chunks of seqs 0-1 and 2-3 on page 0 and seq 4 on page 1."""
    sid = await add_session(tenant.site_id, ["https://alice.example/", "https://alice.example/2"])
    entries = batches(tenant.site_id, sid, range(0, 2))
    entries += batches(tenant.site_id, sid, range(4, 5), page=1)
    chunks = build_chunks(entries) + build_chunks(batches(tenant.site_id, sid, range(2, 4)))
    for c in chunks:
        await blobs.put(c.blob_key, c.data)
    async with db() as s, s.begin():
        assert await record_chunk_groups(s, [ChunkRecord(sid, chunks, now_ms())]) == [True]
    return sid, [e.events[0]["timestamp"] for e in entries]


def reader_for(db: SessionFactory, tmp_path: Path) -> tuple[LocalBlobStore, SessionReader]:
    blobs = LocalBlobStore(tmp_path / "blobs")
    spool = Spool(tmp_path / "spool", 1 << 20)
    return blobs, SessionReader(db, blobs, spool)


async def test_a_session_reads_back_in_page_then_time_order(
    db: SessionFactory, tenant: Tenant, add_session: AddSession, tmp_path: Path
) -> None:
    blobs, reader = reader_for(db, tmp_path)
    sid, _ = await stored_session(db, blobs, tenant, add_session)
    read = await reader.read_session(session_id=sid, site_id=tenant.site_id)
    stamps = [e["timestamp"] for e in read.events]
    assert len(stamps) == 5 and read.missing == [] and read.last_seq == 4
    assert stamps[:4] == sorted(stamps[:4])  # page 0: seqs 0-3 across two chunks
    page1 = await reader.read_session(session_id=sid, site_id=tenant.site_id, page=1)
    assert [e["timestamp"] for e in page1.events] == stamps[4:]


async def test_a_time_window_keeps_only_its_events(
    db: SessionFactory, tenant: Tenant, add_session: AddSession, tmp_path: Path
) -> None:
    blobs, reader = reader_for(db, tmp_path)
    sid, _ = await stored_session(db, blobs, tenant, add_session)
    every = (await reader.read_session(session_id=sid, site_id=tenant.site_id, page=0)).events
    t1, t2 = every[1]["timestamp"], every[2]["timestamp"]
    read = await reader.read_session(
        session_id=sid, site_id=tenant.site_id, page=0, from_ms=t1, to_ms=t2
    )
    assert [e["timestamp"] for e in read.events] == [t1, t2]


async def test_damaged_chunks_are_skipped_and_reported(
    db: SessionFactory, tenant: Tenant, add_session: AddSession, tmp_path: Path
) -> None:
    blobs, reader = reader_for(db, tmp_path)
    sid, _ = await stored_session(db, blobs, tenant, add_session)
    async with db() as s:
        rows = list(await s.scalars(select(Chunk).order_by(Chunk.idx)))
    await blobs.delete_prefix(rows[0].blob_key)
    await blobs.put(rows[1].blob_key, b"not a chunk")
    async with db() as s, s.begin():
        quarantined = await s.get(Chunk, (sid, rows[2].idx))
        assert quarantined is not None
        quarantined.format_version = QUARANTINED

    read = await reader.read_session(session_id=sid, site_id=tenant.site_id)
    reasons = {m.chunk: m.reason for m in read.missing}
    assert read.events == []
    assert reasons[rows[0].idx] == "blob is missing from storage"
    assert reasons[rows[1].idx].startswith("corrupt: ")
    assert reasons[rows[2].idx].startswith("quarantined: ")
    assert read.missing[0].as_json()["page"] == read.missing[0].page


async def test_an_unknown_session_reads_empty(db: SessionFactory, tmp_path: Path) -> None:
    _, reader = reader_for(db, tmp_path)
    read = await reader.read_session(session_id=str(uuid.uuid4()), site_id=1)
    assert read.events == [] and read.missing == [] and read.last_seq == -1
