"""Chunk rows (chunks/rows.py): seq-range coverage and overlap, and recording a
group of sessions' chunks in one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from replay_server.chunks.cut import build_chunks
from replay_server.chunks.rows import (
    ChunkConflict,
    ChunkRecord,
    is_covered,
    overlapping,
    record_chunk_groups,
    stored_ranges_of,
)
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, RecordedSession
from tests.conftest import BOTH_DATABASES, AddSession, Tenant
from tests.ingest.test_catalog import batches
from tests.rrweb_events import now_ms


def test_a_range_covers_its_own_page_and_seqs_only() -> None:
    ranges = [(0, 0, 2), (1, 5, 5)]
    assert is_covered(ranges, 0, 0) and is_covered(ranges, 0, 2) and is_covered(ranges, 1, 5)
    assert not is_covered(ranges, 0, 3)
    assert not is_covered(ranges, 1, 2)  # page 0's range
    assert not is_covered([], 0, 0)


def test_overlap_is_per_page_and_inclusive() -> None:
    sid = str(uuid.uuid4())
    chunks = build_chunks(batches(1, sid, range(2, 4)))
    assert overlapping([(0, 0, 2)], chunks)  # seq 2 in both
    assert overlapping([(0, 3, 9)], chunks)
    assert not overlapping([(0, 0, 1), (0, 4, 9)], chunks)
    assert not overlapping([(1, 0, 9)], chunks)  # another page


@BOTH_DATABASES
async def test_a_group_records_each_session_or_says_why_not(
    db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    a = await add_session(tenant.site_id, ["https://alice.example/"])
    b = await add_session(tenant.site_id, ["https://alice.example/"])
    gone = str(uuid.uuid4())
    first = build_chunks(batches(tenant.site_id, a, range(0, 3)))
    again = build_chunks(batches(tenant.site_id, a, range(2, 5)))  # overlaps `first`
    of_b = build_chunks(batches(tenant.site_id, b, range(0, 2)))
    records = [
        ChunkRecord(a, first, now_ms()),
        ChunkRecord(gone, of_b, now_ms()),
        ChunkRecord(b, of_b, now_ms()),
    ]
    async with db() as s, s.begin():
        results = await record_chunk_groups(s, records)
    assert results == [True, False, True]
    async with db() as s, s.begin():
        (conflict,) = await record_chunk_groups(s, [ChunkRecord(a, again, now_ms())])
    assert isinstance(conflict, ChunkConflict)

    async with db() as s:
        ranges = await stored_ranges_of(s, [a, b, gone])
        rows = list(await s.scalars(select(Chunk).where(Chunk.session_id == a)))
        session = await s.get(RecordedSession, a)
    assert ranges == {a: [(0, 0, 2)], b: [(0, 0, 1)], gone: None}
    assert [(c.idx, c.stored_bytes) for c in rows] == [(0, len(first[0].data))]
    assert session is not None and session.chunk_count == 1 and session.chunked_seq == 2
    assert session.event_count == 3
