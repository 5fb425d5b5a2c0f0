"""Deleting recorded sessions for good: their blobs (every chunk under the
session's prefix `s/{site_id}/{sid}/`), chunk rows, page views and the session
row. Used by the retention sweep, the delete endpoints of the API and the CLI.

Nothing is left orphaned: blobs go first (a failure leaves rows that point at
the session, so a retry finds it again), then the rows in one transaction, then
the prefix once more, for a chunk a node was storing meanwhile (its row insert
finds the session gone and the writer discards its blob; this catches a blob
written after the first pass, too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, PageView, RecordedSession
from replay_server.storage.base import BlobStore

BLOB_CONCURRENCY = 8


@dataclass(frozen=True)
class SessionRef:
    id: str
    site_id: int


@dataclass
class Erased:
    """What a deletion removed (or, for a dry run, would remove)."""

    sessions: int = 0
    chunks: int = 0
    page_views: int = 0
    blobs: int = 0
    stored_bytes: int = 0

    def add(self, other: Erased) -> None:
        self.sessions += other.sessions
        self.chunks += other.chunks
        self.page_views += other.page_views
        self.blobs += other.blobs
        self.stored_bytes += other.stored_bytes

    def as_json(self) -> dict[str, int]:
        return {
            "sessions": self.sessions,
            "chunks": self.chunks,
            "page_views": self.page_views,
            "blobs": self.blobs,
            "stored_bytes": self.stored_bytes,
        }


def session_prefix(site_id: int, session_id: str) -> str:
    """Where every blob of a session lives (chunks/cut.py blob_key)."""
    return f"s/{site_id}/{session_id}/"


async def measure(db: AsyncSession, ids: Sequence[str]) -> Erased:
    """Rows and stored bytes of these sessions, without deleting anything."""
    if not ids:
        return Erased()
    chunks, stored = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(Chunk.stored_bytes), 0)).where(
                Chunk.session_id.in_(ids)
            )
        )
    ).one()
    views = await db.scalar(select(func.count()).where(PageView.session_id.in_(ids)))
    sessions = await db.scalar(select(func.count()).where(RecordedSession.id.in_(ids)))
    return Erased(int(sessions or 0), int(chunks), int(views or 0), 0, int(stored))


async def erase_sessions(
    db: SessionFactory, blobs: BlobStore, refs: Sequence[SessionRef]
) -> Erased:
    """Delete these sessions' blobs and rows; return what was removed."""
    if not refs:
        return Erased()
    ids = [r.id for r in refs]
    deleted_blobs = await _delete_blobs(blobs, refs)
    async with db() as session, session.begin():
        erased = await measure(session, ids)
        await session.execute(delete(Chunk).where(Chunk.session_id.in_(ids)))
        await session.execute(delete(PageView).where(PageView.session_id.in_(ids)))
        await session.execute(delete(RecordedSession).where(RecordedSession.id.in_(ids)))
    erased.blobs = deleted_blobs + await _delete_blobs(blobs, refs)
    return erased


async def _delete_blobs(blobs: BlobStore, refs: Sequence[SessionRef]) -> int:
    limit = asyncio.Semaphore(BLOB_CONCURRENCY)

    async def one(ref: SessionRef) -> int:
        async with limit:
            return await blobs.delete_prefix(session_prefix(ref.site_id, ref.id))

    return sum(await asyncio.gather(*(one(r) for r in refs)))
