"""Recording stored chunks for a group of sessions in one transaction (the
Catalog's group commit): the chunk rows, the page views' end times, the
sessions' running totals and the insight rollups (rollups/counting.py), a few
statements for the whole group.

Several nodes may store chunks of one session: the session rows are locked in
id order (PostgreSQL; SQLite has one writer anyway), chunk indexes are
allocated here, and a session whose new chunks overlap an already stored one
gets ChunkConflict (nothing of it is written) so its writer can drop what is
stored and build again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.chunks.cut import BuiltChunk
from replay_server.db.models import CHUNKS, PAGE_VIEWS, SESSIONS
from replay_server.enrich.behaviour import ChunkInsights
from replay_server.rollups.counting import SESSION_COLUMNS, GroupCounter, SessionFacts

# (page, first_seq, last_seq) of a stored chunk: it holds every batch of that
# page whose seq lies in the range (chunks.cut.build_chunks makes runs so).
SeqRange = tuple[int, int, int]

TOTALS = (
    "chunked_seq",
    "chunk_count",
    "event_count",
    "raw_bytes",
    "stored_bytes",
    "first_event_ms",
    "last_event_ms",
    "duration_ms",
    "last_seen_ms",
)
INSIGHTS = {
    "click_count": "clicks",
    "input_count": "inputs",
    "rage_click_count": "rage_clicks",
    "dead_click_count": "dead_clicks",
    "error_count": "errors",
    "active_ms": "active_ms",
}


class ChunkConflict(Exception):
    """Another node stored some of these batches first: filter and build again."""


@dataclass(frozen=True)
class ChunkRecord:
    """One session's new chunks and the behaviour counts of their events."""

    sid: str
    chunks: list[BuiltChunk]
    now_ms: int
    insights: ChunkInsights | None = None


async def record_chunk_groups(
    db: AsyncSession, records: list[ChunkRecord]
) -> list[bool | Exception]:
    """One result per record: True (recorded), False (the session is gone) or
    ChunkConflict."""
    sids = sorted({r.sid for r in records})
    sessions, counting = await _lock_totals(db, sids)
    ranges, next_idx = await _chunk_ranges(db, sids)
    rows: list[dict[str, Any]] = []
    view_ends: dict[tuple[str, int], int] = {}
    results: list[bool | Exception] = []
    facts: list[SessionFacts] = []
    for r in records:
        totals = sessions.get(r.sid)
        if totals is None:
            results.append(False)
            continue
        if overlapping(ranges[r.sid], r.chunks):
            results.append(ChunkConflict(r.sid))
            continue
        for c in r.chunks:
            rows.append(_chunk_row(r, c, next_idx[r.sid]))
            next_idx[r.sid] += 1
            ranges[r.sid].append((c.page, c.first_seq, c.last_seq))
            key = (r.sid, c.page)
            view_ends[key] = max(view_ends.get(key, 0), c.last_ts)
        before = totals["duration_ms"]
        _add_totals(totals, r)
        if r.insights is not None and r.insights.pages:
            facts.append(SessionFacts(r.sid, r.insights, before, totals["duration_ms"]))
        results.append(True)
    if not rows:
        return results
    await db.execute(insert(CHUNKS), rows)
    if facts:
        # The counter writes the end times of the page views it updates anyway.
        counter = GroupCounter(db)
        ended = await counter.count(facts, counting, view_ends)
        await counter.write((await db.connection()).dialect.name)
        view_ends = {k: v for k, v in view_ends.items() if k not in ended}
    if view_ends:
        await _extend_page_views(db, view_ends)
    await db.execute(
        update(SESSIONS).where(SESSIONS.c.id == bindparam("b_id")),
        [totals for _, totals in sorted(sessions.items()) if totals.pop("touched", False)],
    )
    return results


async def stored_ranges_of(db: AsyncSession, sids: list[str]) -> dict[str, list[SeqRange] | None]:
    """Each session's stored seq ranges; None for an unknown (or deleted) session."""
    known = set(await db.scalars(select(SESSIONS.c.id).where(SESSIONS.c.id.in_(sids))))
    ranges, _ = await _chunk_ranges(db, sorted(known))
    return {sid: ranges[sid] if sid in known else None for sid in sids}


def is_covered(ranges: list[SeqRange], page: int, seq: int) -> bool:
    """A stored chunk of `page` holds the batch `seq`."""
    return any(p == page and first <= seq <= last for p, first, last in ranges)


def overlapping(ranges: list[SeqRange], chunks: list[BuiltChunk]) -> bool:
    return any(
        p == c.page and first <= c.last_seq and c.first_seq <= last
        for c in chunks
        for p, first, last in ranges
    )


async def _lock_totals(
    db: AsyncSession, sids: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The sessions' running totals (locked), and what the rollup counter needs
    of them, read in the same statement."""
    names = (*TOTALS, *INSIGHTS)
    counted = [c for c in SESSION_COLUMNS if c not in names]
    query = (
        select(*(SESSIONS.c[name] for name in dict.fromkeys(("id", *names, *counted))))
        .where(SESSIONS.c.id.in_(sids))
        .order_by(SESSIONS.c.id)
        .with_for_update()
    )
    totals: dict[str, dict[str, Any]] = {}
    counting: dict[str, dict[str, Any]] = {}
    for row in await db.execute(query):
        values = dict(row._mapping)
        counting[row.id] = {c: values[c] for c in SESSION_COLUMNS}
        totals[row.id] = {"b_id": row.id, **{name: values[name] for name in names}}
    return totals, counting


async def _chunk_ranges(
    db: AsyncSession, sids: list[str]
) -> tuple[dict[str, list[SeqRange]], dict[str, int]]:
    """The sessions' stored seq ranges and the next free chunk index of each."""
    ranges: dict[str, list[SeqRange]] = defaultdict(list)
    next_idx: dict[str, int] = defaultdict(int)
    if not sids:
        return ranges, next_idx
    query = select(
        CHUNKS.c.session_id, CHUNKS.c.page, CHUNKS.c.first_seq, CHUNKS.c.last_seq, CHUNKS.c.idx
    ).where(CHUNKS.c.session_id.in_(sids))
    for sid, page, first, last, idx in await db.execute(query):
        ranges[sid].append((int(page), int(first), int(last)))
        next_idx[sid] = max(next_idx[sid], int(idx) + 1)
    return ranges, next_idx


def _chunk_row(r: ChunkRecord, c: BuiltChunk, idx: int) -> dict[str, Any]:
    return {
        "session_id": r.sid,
        "idx": idx,
        "page": c.page,
        "blob_key": c.blob_key,
        "format_version": c.format_version,
        "first_seq": c.first_seq,
        "last_seq": c.last_seq,
        "first_ts": c.first_ts,
        "last_ts": c.last_ts,
        "event_count": c.event_count,
        "raw_bytes": c.raw_bytes,
        "stored_bytes": len(c.data),
        "has_full_snapshot": c.has_full_snapshot,
        "created_ms": r.now_ms,
        "dictionary_id": c.dictionary_id,
    }


async def _extend_page_views(db: AsyncSession, view_ends: dict[tuple[str, int], int]) -> None:
    """Each page view ends no earlier than its last stored event."""
    end: BindParameter[int] = bindparam("b_end")
    await db.execute(
        update(PAGE_VIEWS)
        .where(
            PAGE_VIEWS.c.session_id == bindparam("b_sid"),
            PAGE_VIEWS.c.page == bindparam("b_page"),
            or_(PAGE_VIEWS.c.ended_ms.is_(None), PAGE_VIEWS.c.ended_ms < end),
        )
        .values(ended_ms=end),
        [
            {"b_sid": sid, "b_page": page, "b_end": ts}
            for (sid, page), ts in sorted(view_ends.items())
        ],
    )


def _add_totals(totals: dict[str, Any], r: ChunkRecord) -> None:
    chunks = r.chunks
    totals["touched"] = True
    totals["chunked_seq"] = max([totals["chunked_seq"], *(c.last_seq for c in chunks)])
    totals["chunk_count"] += len(chunks)
    totals["event_count"] += sum(c.event_count for c in chunks)
    totals["raw_bytes"] += sum(c.raw_bytes for c in chunks)
    totals["stored_bytes"] += sum(len(c.data) for c in chunks)
    # A quarantined batch whose time span is unknown (0) spans nothing.
    timed = [c for c in chunks if c.last_ts > 0]
    if timed:
        first = min(c.first_ts for c in timed)
        last = max(c.last_ts for c in timed)
        totals["first_event_ms"] = min(totals["first_event_ms"] or first, first)
        totals["last_event_ms"] = max(totals["last_event_ms"] or last, last)
        totals["duration_ms"] = totals["last_event_ms"] - totals["first_event_ms"]
    totals["last_seen_ms"] = r.now_ms
    if r.insights is not None:
        for column, name in INSIGHTS.items():
            totals[column] += getattr(r.insights, name)
