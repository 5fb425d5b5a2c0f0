"""The ingest path's database work: opening sessions and page views, last-seen
times, closing idle sessions; the chunk rows' share is `chunks` (a
ChunkCatalog on the same write lock).

Every write goes through one lock per node, and the frequent ones (hellos,
chunk records, last-seen times) through group commits: what arrives while a
transaction runs is done together in the next one. SQLite has a single writer
anyway; contending for it from many connections costs busy-wait sleeps, and a
transaction per hello or per chunk cannot keep up with a connection storm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import bindparam, update

from replay_server.chunks.catalog import ChunkCatalog
from replay_server.chunks.rows import ChunkConflict, SeqRange, is_covered
from replay_server.db.engine import SessionFactory
from replay_server.db.group_commit import GroupCommit, is_outage
from replay_server.db.models import SESSIONS, RecordedSession
from replay_server.enrich.visitmeta import VisitOrigin
from replay_server.errors import Unavailable
from replay_server.ingest.session_rows import OpenRequest, SessionCursor, open_sessions
from replay_server.protocol import Hello

__all__ = ["Catalog", "ChunkCatalog", "ChunkConflict", "SeqRange", "SessionCursor", "is_covered"]


class Catalog:
    def __init__(self, db: SessionFactory) -> None:
        self._db = db
        self._write_lock = asyncio.Lock()
        self.chunks = ChunkCatalog(db, self._write_lock)
        self._opens = GroupCommit(self._open_group)
        self._touches = GroupCommit(self._touch_group)

    async def open_session(
        self,
        site_id: int,
        hello: Hello,
        user_agent: str,
        now_ms: int,
        origin: VisitOrigin | None = None,
    ) -> SessionCursor:
        """Create or continue the session and its page view; refuse another site's sid
        (Forbidden). `origin` (country, IP as stored) describes a new session's first
        connection."""
        origin = origin or VisitOrigin(country="", ip="")
        request = OpenRequest(site_id, hello, user_agent, now_ms, origin)
        try:
            return await self._opens.submit(request)
        except Exception as e:
            if is_outage(e):
                # The database is down, or its disk full: nobody's fault, retryable.
                raise Unavailable(
                    "sessions cannot be opened now; try again later", code="storage_unavailable"
                ) from e
            raise

    async def touch(self, sid: str, now_ms: int) -> None:
        await self._touches.submit((sid, now_ms))

    async def finish_session(self, sid: str) -> None:
        """The recorder said bye and did not come back: the session has ended."""
        async with self._write_lock, self._db() as db, db.begin():
            await db.execute(
                update(RecordedSession)
                .where(RecordedSession.id == sid, RecordedSession.ended_ms.is_(None))
                .values(ended_ms=RecordedSession.last_seen_ms)
            )

    async def finish_idle_sessions(self, idle_before_ms: int) -> int:
        """Close sessions nobody has sent anything to since `idle_before_ms`."""
        async with self._write_lock, self._db() as db, db.begin():
            result = await db.execute(
                update(RecordedSession)
                .where(
                    RecordedSession.ended_ms.is_(None),
                    RecordedSession.last_seen_ms < idle_before_ms,
                )
                .values(ended_ms=RecordedSession.last_seen_ms)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- group transactions ---------------------------------------------------

    # A group that fails is split by GroupCommit until each failure is one
    # item's own (a constraint broken by a row another writer changed, a site
    # deleted meanwhile, a value the database cannot store); the others commit.

    async def _open_group(self, requests: list[OpenRequest]) -> Sequence[SessionCursor | Exception]:
        async with self._write_lock, self._db() as db, db.begin():
            return await open_sessions(db, requests)

    async def _touch_group(self, touches: list[tuple[str, int]]) -> list[None]:
        latest: dict[str, int] = {}
        for sid, now_ms in touches:
            latest[sid] = max(latest.get(sid, 0), now_ms)
        async with self._write_lock, self._db() as db, db.begin():
            await db.execute(
                update(SESSIONS).where(SESSIONS.c.id == bindparam("b_id")),
                [{"b_id": sid, "last_seen_ms": ms} for sid, ms in sorted(latest.items())],
            )
        return [None] * len(touches)
