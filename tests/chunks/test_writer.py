"""The chunk writer (chunks/writer.py) on a real database and blob directory:
batches are stored once (a batch a chunk already holds is dropped), a batch
that cannot be chunked is quarantined without blocking the others, and an
unknown session's batches leave no blob behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from replay_server.chunks.build import ChunkBuilder
from replay_server.chunks.catalog import ChunkCatalog
from replay_server.chunks.format import QUARANTINED
from replay_server.chunks.writer import ChunkWriter
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.spool.records import RawEntry
from replay_server.storage.local import LocalBlobStore
from tests.conftest import AddSession, Tenant
from tests.ingest.test_catalog import batches


@pytest.fixture
async def writer(db: SessionFactory, tmp_path: Path) -> AsyncIterator[ChunkWriter]:
    builder = ChunkBuilder(0)  # in a thread: no worker process to start
    try:
        yield ChunkWriter(ChunkCatalog(db), LocalBlobStore(tmp_path / "blobs"), builder)
    finally:
        await builder.close()


def blob_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]


def raw(site_id: int, sid: str, seqs: range) -> list[RawEntry]:
    return [RawEntry.of(e) for e in batches(site_id, sid, seqs)]


async def test_batches_are_stored_once(
    writer: ChunkWriter,
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
    tmp_path: Path,
) -> None:
    sid = await add_session(tenant.site_id, ["https://alice.example/"])
    first = raw(tenant.site_id, sid, range(0, 3))
    cut = await writer.store(sid, first + first[:1])  # a resent batch in the same cut
    assert (cut.batches, cut.duplicates, cut.quarantined) == (3, 0, 0)
    again = await writer.store(sid, raw(tenant.site_id, sid, range(2, 5)))
    assert (again.batches, again.duplicates) == (2, 1)  # seq 2 is stored already
    async with db() as s:
        rows = list(await s.scalars(select(Chunk).where(Chunk.session_id == sid)))
    assert sorted((c.first_seq, c.last_seq) for c in rows) == [(0, 2), (3, 4)]
    assert len(blob_files(tmp_path)) == 2
    nothing = await writer.store(sid, first)
    assert (nothing.batches, nothing.duplicates, nothing.chunks) == (0, 3, [])


async def test_a_batch_that_cannot_be_chunked_is_quarantined_alone(
    writer: ChunkWriter, db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://alice.example/"])
    good = raw(tenant.site_id, sid, range(0, 2))
    poison = RawEntry(tenant.site_id, sid, 2, 0, b"\x00not a spool payload")
    cut = await writer.store(sid, [*good, poison])
    assert (cut.batches, cut.quarantined) == (2, 1)
    async with db() as s:
        rows = list(await s.scalars(select(Chunk).where(Chunk.session_id == sid)))
    kept = [(c.first_seq, c.format_version == QUARANTINED) for c in rows]
    assert sorted(kept) == [(0, False), (2, True)]


async def test_an_unknown_sessions_batches_leave_nothing(
    writer: ChunkWriter, tenant: Tenant, tmp_path: Path
) -> None:
    sid = str(uuid.uuid4())
    cut = await writer.store(sid, raw(tenant.site_id, sid, range(0, 2)))
    assert (cut.batches, cut.chunks) == (0, [])
    assert blob_files(tmp_path) == []
