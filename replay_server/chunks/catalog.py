"""The chunk rows' database work: which seq ranges of a session are stored,
and recording new chunks (rows plus the session's running totals) exactly
once across nodes, through group commits.

Writes take the node's write lock, shared with the ingest path's session
writes (ingest/catalog.py): SQLite has a single writer anyway, and contending
for it from many connections costs busy-wait sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from replay_server.chunks.cut import BuiltChunk
from replay_server.chunks.rows import (
    ChunkConflict,
    ChunkRecord,
    SeqRange,
    record_chunk_groups,
    stored_ranges_of,
)
from replay_server.db.engine import SessionFactory
from replay_server.db.group_commit import GroupCommit
from replay_server.enrich.behaviour import ChunkInsights


class ChunkCatalog:
    def __init__(self, db: SessionFactory, write_lock: asyncio.Lock | None = None) -> None:
        self._db = db
        self._write_lock = write_lock or asyncio.Lock()
        self._records = GroupCommit(self._record_group)
        self._ranges = GroupCommit(self._ranges_group)

    @property
    def db(self) -> SessionFactory:
        return self._db

    async def stored_ranges(self, sid: str) -> list[SeqRange] | None:
        """The seq ranges of the session's stored chunks; None for an unknown session."""
        return await self._ranges.submit(sid)

    async def record_chunks(
        self,
        sid: str,
        chunks: list[BuiltChunk],
        now_ms: int,
        insights: ChunkInsights | None = None,
    ) -> bool:
        """The chunk rows and the session's running totals (behaviour counts
        included), committed together. Raises ChunkConflict when another node
        stored some of these batches first (nothing is written); False when the
        session is gone (deleted meanwhile)."""
        return await self._records.submit(ChunkRecord(sid, chunks, now_ms, insights))

    # A group that fails is split by GroupCommit until each failure is one
    # item's own; the others commit.

    async def _record_group(self, records: list[ChunkRecord]) -> Sequence[bool | Exception]:
        try:
            async with self._write_lock, self._db() as db, db.begin():
                return await record_chunk_groups(db, records)
        except IntegrityError as e:
            if len(records) > 1:
                raise
            # A record alone still tripped a unique key: a writer outside this
            # node's lock (SQLite does not lock rows) stored chunks meanwhile.
            raise ChunkConflict(records[0].sid) from e

    async def _ranges_group(self, sids: list[str]) -> list[list[SeqRange] | None]:
        async with self._db() as db:
            ranges = await stored_ranges_of(db, sorted(set(sids)))
        return [ranges[sid] for sid in sids]
