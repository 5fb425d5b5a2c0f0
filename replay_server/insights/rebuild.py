"""`replay-server insights rebuild [--site ID]`: count the insight rollups
again from the stored chunks, for data recorded before the rollups existed
(or with REPLAY_INSIGHTS off) and after a change of their definitions.

A site's rollups, its click index and what its page views and sessions say
was counted are cleared, then every session's stored chunks are read back
and analysed as ingest does (one session at a time, a fresh carry each) and
counted by the same code (rollups/counting.py), a group of sessions per
transaction. Run it with the servers stopped: a session recorded meanwhile
would be counted by both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from replay_server.chunks.dictionary_store import DictionaryCache
from replay_server.chunks.reader import decode_chunks, fetch_blobs
from replay_server.db.engine import SessionFactory
from replay_server.db.models import PAGE_VIEWS, SESSIONS, Chunk, Site
from replay_server.db.rollup_tables import ELEMENT_CLICKS, INSIGHT_ROLLUPS
from replay_server.enrich.behaviour import InsightCarry, analyse_pages
from replay_server.rollups.counting import GroupCounter, SessionFacts
from replay_server.storage.base import BlobStore

SESSIONS_PER_GROUP = 50
Progress = Callable[[int], None]


@dataclass
class RebuildReport:
    sites: int = 0
    sessions: int = 0
    unreadable_chunks: int = 0


async def rebuild(
    db: SessionFactory,
    blobs: BlobStore,
    site_id: int | None = None,
    progress: Progress = lambda _n: None,
) -> RebuildReport:
    report = RebuildReport()
    async with db() as session:
        query = select(Site.id).order_by(Site.id)
        if site_id is not None:
            query = query.where(Site.id == site_id)
        sites = list(await session.scalars(query))
    for site in sites:
        await clear_site(db, site)
        report.sites += 1
        async with db() as session:
            sids = list(
                await session.scalars(
                    select(SESSIONS.c.id)
                    .where(SESSIONS.c.site_id == site)
                    .order_by(SESSIONS.c.started_ms, SESSIONS.c.id)
                )
            )
        for start in range(0, len(sids), SESSIONS_PER_GROUP):
            group = sids[start : start + SESSIONS_PER_GROUP]
            report.unreadable_chunks += await _count_sessions(db, blobs, group)
            report.sessions += len(group)
            progress(len(group))
    return report


async def count_sessions_of(db: SessionFactory, site_id: int | None) -> int:
    async with db() as session:
        query = select(func.count()).select_from(SESSIONS)
        if site_id is not None:
            query = query.where(SESSIONS.c.site_id == site_id)
        return int(await session.scalar(query) or 0)


async def clear_site(db: SessionFactory, site_id: int) -> None:
    """Forget everything counted for the site."""
    async with db() as session, session.begin():
        for table in (*INSIGHT_ROLLUPS, ELEMENT_CLICKS):
            await session.execute(delete(table).where(table.c.site_id == site_id))
        await session.execute(
            update(PAGE_VIEWS)
            .where(PAGE_VIEWS.c.site_id == site_id)
            .values(
                counted=False,
                event_first_ms=None,
                event_last_ms=None,
                time_ms=0,
                scroll_px=0,
                page_height=0,
                scroll_pct=-1,
                viewport_w=None,
                viewport_h=None,
            )
        )
        await session.execute(
            update(SESSIONS).where(SESSIONS.c.site_id == site_id).values(counted_pages=0)
        )


async def _count_sessions(db: SessionFactory, blobs: BlobStore, sids: list[str]) -> int:
    """Count a group of sessions from their chunks; the number of chunks that
    could not be read (missing or corrupt blobs: their events are left out)."""
    facts: list[SessionFacts] = []
    unreadable = 0
    async with db() as session:
        durations = dict(
            (
                await session.execute(
                    select(SESSIONS.c.id, SESSIONS.c.duration_ms).where(SESSIONS.c.id.in_(sids))
                )
            ).all()
        )
        chunks = list(
            await session.scalars(
                select(Chunk)
                .where(Chunk.session_id.in_(sids))
                .order_by(Chunk.session_id, Chunk.idx)
            )
        )
    by_session: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_session.setdefault(chunk.session_id, []).append(chunk)
    dictionaries = DictionaryCache(db)  # chunks compressed with a site dictionary
    for sid in sids:
        rows = by_session.get(sid, [])
        data = await fetch_blobs(blobs, [c.blob_key for c in rows])
        needed = await dictionaries.get_many(c.dictionary_id for c in rows)
        pieces, missing = await decode_chunks(rows, data, needed)
        unreadable += len(missing)
        pages: dict[int, list[dict[str, object]]] = {}
        for page, events in pieces:
            pages.setdefault(page, []).extend(events)
        # CPU work, as in the chunk builder: off the event loop.
        insights = await asyncio.to_thread(analyse_pages, InsightCarry(), list(pages.items()))
        if insights.pages:
            facts.append(SessionFacts(sid, insights, 0, int(durations.get(sid) or 0)))
    async with db() as session, session.begin():
        counter = GroupCounter(session)
        await counter.count(facts)
        await counter.write((await session.connection()).dialect.name)
    return unreadable
