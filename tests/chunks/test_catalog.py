"""The chunk catalog (chunks/catalog.py): concurrent chunk records of many
sessions are grouped yet each session stays consistent; an overlap is a
ChunkConflict and an unknown session is False, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from replay_server.chunks.cut import build_chunks
from replay_server.chunks.rows import ChunkConflict
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, PageView, RecordedSession
from replay_server.ingest.catalog import Catalog
from tests.conftest import BOTH_DATABASES, Tenant
from tests.ingest.test_catalog import UA, batches, hello
from tests.rrweb_events import now_ms

pytestmark = BOTH_DATABASES


async def test_concurrent_chunk_records_keep_each_session_consistent(
    db: SessionFactory, tenant: Tenant
) -> None:
    catalog = Catalog(db)
    sids = [str(uuid.uuid4()) for _ in range(20)]
    await asyncio.gather(
        *(
            catalog.open_session(tenant.site_id, hello(tenant.site_key, s), UA, now_ms())
            for s in sids
        )
    )
    first = [build_chunks(batches(tenant.site_id, s, range(0, 3))) for s in sids]
    second = [build_chunks(batches(tenant.site_id, s, range(3, 5))) for s in sids]
    overlapping = build_chunks(batches(tenant.site_id, sids[0], range(2, 4)))
    recorded = await asyncio.gather(
        *(catalog.chunks.record_chunks(s, c, now_ms()) for s, c in zip(sids, first, strict=True))
    )
    results = await asyncio.gather(
        *(catalog.chunks.record_chunks(s, c, now_ms()) for s, c in zip(sids, second, strict=True)),
        catalog.chunks.record_chunks(sids[0], overlapping, now_ms()),
        catalog.chunks.record_chunks(str(uuid.uuid4()), overlapping, now_ms()),  # unknown session
        return_exceptions=True,
    )
    assert all(recorded) and results[:20] == [True] * 20, results
    assert isinstance(results[20], ChunkConflict)
    assert results[21] is False
    async with db() as s:
        for sid in sids:
            rows = (
                (await s.execute(select(Chunk).where(Chunk.session_id == sid).order_by(Chunk.idx)))
                .scalars()
                .all()
            )
            session = await s.get(RecordedSession, sid)
            view = await s.get(PageView, (sid, 0))
            assert [(c.idx, c.first_seq, c.last_seq) for c in rows] == [(0, 0, 2), (1, 3, 4)]
            assert session is not None and session.chunked_seq == 4 and session.chunk_count == 2
            assert session.event_count == 5
            assert session.duration_ms == rows[-1].last_ts - rows[0].first_ts
            assert view is not None and view.ended_ms == rows[-1].last_ts
    assert await catalog.chunks.stored_ranges(sids[0]) == [(0, 0, 2), (0, 3, 4)]
    assert await catalog.chunks.stored_ranges(str(uuid.uuid4())) is None
