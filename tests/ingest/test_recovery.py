"""Start-up recovery (ingest/recovery.py) of real spool segments: acked batches
become chunks and the segments go; an unreadable record is kept aside in the
blob store; a session that cannot be stored now keeps its segment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from replay_server.chunks.build import ChunkBuilder
from replay_server.chunks.catalog import ChunkCatalog
from replay_server.chunks.writer import ChunkWriter
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.ingest.recovery import recover_spool
from replay_server.spool.log import Spool
from replay_server.spool.records import encode_spool_payload
from replay_server.storage.local import LocalBlobStore
from tests.conftest import AddSession, Tenant
from tests.ingest.test_catalog import batches


@pytest.fixture
async def builder() -> AsyncIterator[ChunkBuilder]:
    built = ChunkBuilder(0)
    try:
        yield built
    finally:
        await built.close()


async def leftover_spool(directory: Path, payloads: list[bytes]) -> list[Path]:
    """Segments an earlier run left: these payloads appended, never released."""
    spool = Spool(directory, segment_bytes=1 << 20)
    await spool.open()
    for payload in payloads:
        await spool.append(payload)
    await spool.close()
    return Spool(directory, segment_bytes=1 << 20).leftover_segments()


async def test_leftover_batches_become_chunks_and_the_segments_go(
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
    builder: ChunkBuilder,
    tmp_path: Path,
) -> None:
    a = await add_session(tenant.site_id, ["https://alice.example/"])
    b = await add_session(tenant.site_id, ["https://alice.example/"])
    entries = batches(tenant.site_id, a, range(0, 3)) + batches(tenant.site_id, b, range(0, 2))
    payloads = [encode_spool_payload(e) for e in entries]
    segments = await leftover_spool(tmp_path / "spool", [*payloads, b"\x07damaged"])
    blobs = LocalBlobStore(tmp_path / "blobs")

    result = await recover_spool(segments, ChunkWriter(ChunkCatalog(db), blobs, builder))
    assert (result.recovered, result.quarantined, result.kept) == (5, 1, [])
    assert not any(p.exists() for p in segments)
    kept = list((tmp_path / "blobs" / "quarantine").iterdir())
    assert [p.read_bytes() for p in kept] == [b"\x07damaged"]
    async with db() as s:
        rows = list(await s.execute(select(Chunk.session_id, Chunk.first_seq, Chunk.last_seq)))
    assert sorted(map(tuple, rows)) == sorted([(a, 0, 2), (b, 0, 1)])


async def test_a_session_that_cannot_be_stored_keeps_its_segment(
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
    builder: ChunkBuilder,
    tmp_path: Path,
) -> None:
    sid = await add_session(tenant.site_id, ["https://alice.example/"])
    payloads = [encode_spool_payload(e) for e in batches(tenant.site_id, sid, range(0, 2))]
    segments = await leftover_spool(tmp_path / "spool", payloads)
    root = tmp_path / "blobs"
    root.write_bytes(b"")  # a file where the store's directory should be: puts fail

    result = await recover_spool(
        segments, ChunkWriter(ChunkCatalog(db), LocalBlobStore(root), builder)
    )
    assert (result.recovered, result.kept) == (0, segments)
    assert all(p.exists() for p in segments)
    async with db() as s:
        assert list(await s.scalars(select(Chunk))) == []
