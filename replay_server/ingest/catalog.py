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
from .insights import ChunkInsights
from .visitmeta import VisitOrigin, referrer_domain, url_path, utm_params


@dataclass(frozen=True)
class SessionCursor:
    """Where a session's stored data ends: what the next batch follows."""

    chunked_seq: int
    started_ms: int = 0
    raw_bytes: int = 0


class ChunkConflict(Exception):
    """Another node stored some of these batches first: filter and build again."""


# (page, first_seq, last_seq) of a stored chunk: it holds every batch of that
# page whose seq lies in the range (chunker.build_chunks makes runs so).
SeqRange = tuple[int, int, int]


class Catalog:
    def __init__(self, db: SessionFactory) -> None:
        self._db = db

    async def open_session(
        self,
        site_id: int,
        hello: Hello,
        user_agent: str,
        now_ms: int,
        origin: VisitOrigin | None = None,
    ) -> SessionCursor:
        """Create or continue the session and its page view; refuse another site's sid.
        `origin` (country, IP as stored) describes a new session's first connection."""
        origin = origin or VisitOrigin(country="", ip="")
        try:
            return await self._open_session(site_id, hello, user_agent, now_ms, origin)
        except IntegrityError:
            # Two connections created the same new session at once: the row exists now.
            return await self._open_session(site_id, hello, user_agent, now_ms, origin)

    async def _open_session(
        self, site_id: int, hello: Hello, user_agent: str, now_ms: int, origin: VisitOrigin
    ) -> SessionCursor:
        async with self._db() as db, db.begin():
            session = await db.get(RecordedSession, hello.sid)
            if session is None:
                session = _new_session(site_id, hello, user_agent, now_ms, origin)
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
                        path=url_path(hello.url),
                        title=hello.title,
                        started_ms=now_ms,
                    )
                )
                if hello.page + 1 >= session.page_count:
                    session.exit_url = hello.url
                session.page_count = max(session.page_count, hello.page + 1)
            elif hello.title and view.title != hello.title:
                view.title = hello.title
            return SessionCursor(session.chunked_seq, session.started_ms, session.raw_bytes)

    async def cursor(self, sid: str) -> SessionCursor | None:
        async with self._db() as db:
            session = await db.get(RecordedSession, sid)
            if session is None:
                return None
            return SessionCursor(session.chunked_seq, session.started_ms, session.raw_bytes)

    async def stored_ranges(self, sid: str) -> list[SeqRange] | None:
        """The seq ranges of the session's stored chunks; None for an unknown session."""
        async with self._db() as db:
            if await db.get(RecordedSession, sid) is None:
                return None
            return await _stored_ranges(db, sid)

    async def record_chunks(
        self,
        sid: str,
        chunks: list[BuiltChunk],
        now_ms: int,
        insights: ChunkInsights | None = None,
    ) -> bool:
        """One transaction: the chunk rows and the session's running totals
        (behaviour counts included).

        Several nodes may store chunks of one session: the session row is locked
        (PostgreSQL; SQLite has one writer anyway), chunk indexes are allocated
        here, and chunks overlapping an already stored one raise ChunkConflict
        (nothing is written) so the caller can drop what is stored and build
        again. False when the session is gone (deleted meanwhile)."""
        try:
            return await self._record_chunks(sid, chunks, now_ms, insights)
        except IntegrityError as e:
            # SQLite does not lock the row: a concurrent writer trips the unique keys.
            raise ChunkConflict(sid) from e

    async def _record_chunks(
        self,
        sid: str,
        chunks: list[BuiltChunk],
        now_ms: int,
        insights: ChunkInsights | None,
    ) -> bool:
        async with self._db() as db, db.begin():
            session = await db.get(RecordedSession, sid, with_for_update=True)
            if session is None:
                return False
            if _overlapping(await _stored_ranges(db, sid), chunks):
                raise ChunkConflict(sid)
            next_idx = await db.scalar(
                select(func.coalesce(func.max(Chunk.idx) + 1, 0)).where(Chunk.session_id == sid)
            )
            for idx, c in enumerate(chunks, start=int(next_idx or 0)):
                db.add(
                    Chunk(
                        session_id=sid,
                        idx=idx,
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
            if insights is not None:
                _add_insights(session, insights)
            return True

    async def touch(self, sid: str, now_ms: int) -> None:
        async with self._db() as db, db.begin():
            await db.execute(
                update(RecordedSession).where(RecordedSession.id == sid).values(last_seen_ms=now_ms)
            )

    async def finish_session(self, sid: str) -> None:
        """The recorder said bye and did not come back: the session has ended."""
        async with self._db() as db, db.begin():
            await db.execute(
                update(RecordedSession)
                .where(RecordedSession.id == sid, RecordedSession.ended_ms.is_(None))
                .values(ended_ms=RecordedSession.last_seen_ms)
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


def _new_session(
    site_id: int, hello: Hello, user_agent: str, now_ms: int, origin: VisitOrigin
) -> RecordedSession:
    client = parse_user_agent(user_agent)
    utm = utm_params(hello.url)
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
        exit_url=hello.url,
        referrer=hello.referrer,
        referrer_domain=referrer_domain(hello.referrer),
        user_agent=user_agent[:512],
        browser=client.browser,
        browser_version=client.browser_version,
        os=client.os,
        device=client.device,
        viewport_w=hello.viewport[0] if hello.viewport else None,
        viewport_h=hello.viewport[1] if hello.viewport else None,
        screen_w=hello.screen[0] if hello.screen else None,
        screen_h=hello.screen[1] if hello.screen else None,
        lang=hello.lang,
        tz=hello.tz,
        country=origin.country,
        ip=origin.ip,
        utm_source=utm["utm_source"],
        utm_medium=utm["utm_medium"],
        utm_campaign=utm["utm_campaign"],
        utm_term=utm["utm_term"],
        utm_content=utm["utm_content"],
        click_count=0,
        input_count=0,
        rage_click_count=0,
        dead_click_count=0,
        error_count=0,
        active_ms=0,
    )


async def _stored_ranges(db: AsyncSession, sid: str) -> list[SeqRange]:
    rows = await db.execute(
        select(Chunk.page, Chunk.first_seq, Chunk.last_seq).where(Chunk.session_id == sid)
    )
    return [(int(page), int(first), int(last)) for page, first, last in rows]


def is_covered(ranges: list[SeqRange], page: int, seq: int) -> bool:
    """A stored chunk of `page` holds the batch `seq`."""
    return any(p == page and first <= seq <= last for p, first, last in ranges)


def _overlapping(ranges: list[SeqRange], chunks: list[BuiltChunk]) -> bool:
    return any(
        p == c.page and first <= c.last_seq and c.first_seq <= last
        for c in chunks
        for p, first, last in ranges
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


def _add_insights(session: RecordedSession, insights: ChunkInsights) -> None:
    session.click_count += insights.clicks
    session.input_count += insights.inputs
    session.rage_click_count += insights.rage_clicks
    session.dead_click_count += insights.dead_clicks
    session.error_count += insights.errors
    session.active_ms += insights.active_ms
