"""The ingest path's database work: opening sessions and page views, recording
stored chunks, closing idle sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.engine import SessionFactory
from ..db.models import Chunk, PageView, RecordedSession
from ..errors import Forbidden
from ..protocol import Hello
from ..useragent import parse_user_agent
from .chunker import BuiltChunk


@dataclass(frozen=True)
class SessionCursor:
    """Where a session's stored data ends: what the next batch and chunk follow."""

    chunked_seq: int
    next_chunk_idx: int
    started_ms: int = 0
    raw_bytes: int = 0


class Catalog:
    def __init__(self, db: SessionFactory) -> None:
        self._db = db

    async def open_session(
        self, site_id: int, hello: Hello, user_agent: str, now_ms: int
    ) -> SessionCursor:
        """Create or continue the session and its page view; refuse another site's sid."""
        try:
            return await self._open_session(site_id, hello, user_agent, now_ms)
        except IntegrityError:
            # Two connections created the same new session at once: the row exists now.
            return await self._open_session(site_id, hello, user_agent, now_ms)

    async def _open_session(
        self, site_id: int, hello: Hello, user_agent: str, now_ms: int
    ) -> SessionCursor:
        async with self._db() as db, db.begin():
            session = await db.get(RecordedSession, hello.sid)
            if session is None:
                session = _new_session(site_id, hello, user_agent, now_ms)
                db.add(session)
                await db.flush()
            elif session.site_id != site_id:
                raise Forbidden(
                    "this session belongs to another site", code="session_site_mismatch"
                )
            session.ended_ms = None
            session.last_seen_ms = now_ms
            view = await db.get(PageView, (hello.sid, hello.page))
            if view is None:
                db.add(
                    PageView(
                        session_id=hello.sid,
                        page=hello.page,
                        site_id=site_id,
                        url=hello.url,
                        title=hello.title,
                        started_ms=now_ms,
                    )
                )
                session.page_count = max(session.page_count, hello.page + 1)
            elif hello.title and view.title != hello.title:
                view.title = hello.title
            next_idx = await db.scalar(
                select(func.coalesce(func.max(Chunk.idx) + 1, 0)).where(
                    Chunk.session_id == hello.sid
                )
            )
            return SessionCursor(
                session.chunked_seq, int(next_idx or 0), session.started_ms, session.raw_bytes
            )

    async def cursor(self, sid: str) -> SessionCursor | None:
        async with self._db() as db:
            session = await db.get(RecordedSession, sid)
            if session is None:
                return None
            next_idx = await db.scalar(
                select(func.coalesce(func.max(Chunk.idx) + 1, 0)).where(Chunk.session_id == sid)
            )
            return SessionCursor(
                session.chunked_seq, int(next_idx or 0), session.started_ms, session.raw_bytes
            )

    async def record_chunks(self, sid: str, chunks: list[BuiltChunk], now_ms: int) -> None:
        """One transaction: the chunk rows and the session's running totals."""
        async with self._db() as db, db.begin():
            session = await db.get(RecordedSession, sid)
            if session is None:
                return
            for c in chunks:
                db.add(
                    Chunk(
                        session_id=sid,
                        idx=c.idx,
                        page=c.page,
                        blob_key=c.blob_key,
                        format_version=c.format_version,
                        first_seq=c.first_seq,
                        last_seq=c.last_seq,
                        first_ts=c.first_ts,
                        last_ts=c.last_ts,
                        event_count=c.event_count,
                        raw_bytes=c.raw_bytes,
                        stored_bytes=len(c.data),
                        has_full_snapshot=c.has_full_snapshot,
                        created_ms=now_ms,
                    )
                )
                await _extend_page_view(db, sid, c)
            _add_totals(session, chunks, now_ms)

    async def touch(self, sid: str, now_ms: int) -> None:
        async with self._db() as db, db.begin():
            await db.execute(
                update(RecordedSession).where(RecordedSession.id == sid).values(last_seen_ms=now_ms)
            )

    async def finish_idle_sessions(self, idle_before_ms: int) -> int:
        """Close sessions nobody has sent anything to since `idle_before_ms`."""
        async with self._db() as db, db.begin():
            result = await db.execute(
                update(RecordedSession)
                .where(
                    RecordedSession.ended_ms.is_(None),
                    RecordedSession.last_seen_ms < idle_before_ms,
                )
                .values(ended_ms=RecordedSession.last_seen_ms)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _new_session(site_id: int, hello: Hello, user_agent: str, now_ms: int) -> RecordedSession:
    client = parse_user_agent(user_agent)
    return RecordedSession(
        id=hello.sid,
        site_id=site_id,
        visitor_id=hello.vid,
        started_ms=now_ms,
        last_seen_ms=now_ms,
        duration_ms=0,
        page_count=0,
        chunked_seq=-1,
        chunk_count=0,
        event_count=0,
        raw_bytes=0,
        stored_bytes=0,
        entry_url=hello.url,
        referrer=hello.referrer,
        user_agent=user_agent[:512],
        browser=f"{client.browser} {client.browser_version}".strip(),
        os=client.os,
        device=client.device,
        viewport_w=hello.viewport[0] if hello.viewport else None,
        viewport_h=hello.viewport[1] if hello.viewport else None,
        screen_w=hello.screen[0] if hello.screen else None,
        screen_h=hello.screen[1] if hello.screen else None,
        lang=hello.lang,
        tz=hello.tz,
    )


async def _extend_page_view(db: AsyncSession, sid: str, chunk: BuiltChunk) -> None:
    view = await db.get(PageView, (sid, chunk.page))
    if view is not None:
        view.ended_ms = max(view.ended_ms or 0, chunk.last_ts)


def _add_totals(session: RecordedSession, chunks: list[BuiltChunk], now_ms: int) -> None:
    session.chunked_seq = max([session.chunked_seq, *(c.last_seq for c in chunks)])
    session.chunk_count += len(chunks)
    session.event_count += sum(c.event_count for c in chunks)
    session.raw_bytes += sum(c.raw_bytes for c in chunks)
    session.stored_bytes += sum(len(c.data) for c in chunks)
    first = min(c.first_ts for c in chunks)
    last = max(c.last_ts for c in chunks)
    session.first_event_ms = min(session.first_event_ms or first, first)
    session.last_event_ms = max(session.last_event_ms or last, last)
    session.duration_ms = session.last_event_ms - session.first_event_ms
    session.last_seen_ms = now_ms
