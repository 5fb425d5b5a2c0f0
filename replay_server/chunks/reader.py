"""Reading a session back for replay: its stored chunks, then the batches this
node still holds in the spool. Tolerates damage: a chunk whose blob is missing
or cannot be decoded is skipped and reported (`MissingChunk`), so a session
still replays what it can and the player can say what is missing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from replay_server.chunks.dictionary_store import DictionaryCache
from replay_server.chunks.format import QUARANTINED, ChunkDictionary, decode_chunk
from replay_server.chunks.rows import SeqRange, is_covered
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.errors import CorruptChunk, NotFound
from replay_server.spool.log import Spool
from replay_server.spool.records import PendingBatch, decode_spool_payload
from replay_server.storage.base import BlobStore

log = logging.getLogger(__name__)

FETCH_CONCURRENCY = 8


@dataclass(frozen=True)
class MissingChunk:
    """A stored chunk that could not be read: which one, its page and time span, why."""

    chunk: int
    page: int
    first_ts: int
    last_ts: int
    has_full_snapshot: bool
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "chunk": self.chunk,
            "page": self.page,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "has_full_snapshot": self.has_full_snapshot,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SessionEvents:
    """Events of a session (or of a page / time window of it) and what could not be read."""

    events: list[dict[str, Any]]
    missing: list[MissingChunk] = field(default_factory=list)
    last_seq: int = -1  # the highest batch seq the read covered (for live viewers' dedup)


class _Absent:
    """Stands in for a blob the store does not have."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


async def fetch_blobs(blobs: BlobStore, keys: list[str]) -> list[bytes | _Absent]:
    """Every blob, at most FETCH_CONCURRENCY at a time; an absent one is marked, not raised.
    Other storage failures (the store is unreachable) still raise: that is not damage."""
    limit = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(key: str) -> bytes | _Absent:
        async with limit:
            try:
                return await blobs.get(key)
            except NotFound:
                return _Absent("blob is missing from storage")

    return list(await asyncio.gather(*(one(k) for k in keys)))


async def decode_chunks(
    chunks: list[Chunk],
    blobs: list[bytes | _Absent],
    dictionaries: Mapping[int, ChunkDictionary] | None = None,
) -> tuple[list[tuple[int, list[dict[str, Any]]]], list[MissingChunk]]:
    """(page, events) of every readable chunk, and a report of the others.
    `dictionaries`: those the chunks name (DictionaryCache.get_many); a chunk
    whose dictionary is not there is reported as corrupt."""
    known = dictionaries or {}
    pieces: list[tuple[int, list[dict[str, Any]]]] = []
    missing: list[MissingChunk] = []
    for chunk, data in zip(chunks, blobs, strict=True):
        reason = data.reason if isinstance(data, _Absent) else ""
        if chunk.format_version == QUARANTINED:
            reason = "quarantined: this batch could not be stored as a chunk (kept aside)"
        elif isinstance(data, bytes):
            try:
                dictionary = known.get(chunk.dictionary_id)
                events = await asyncio.to_thread(decode_chunk, data, dictionary)
                pieces.append((chunk.page, events))
                continue
            except CorruptChunk as e:
                reason = f"corrupt: {e.message}"
        missing.append(
            MissingChunk(
                chunk=chunk.idx,
                page=chunk.page,
                first_ts=chunk.first_ts,
                last_ts=chunk.last_ts,
                has_full_snapshot=chunk.has_full_snapshot,
                reason=reason,
            )
        )
    return pieces, missing


class ReceivingSession(Protocol):
    """What the reader needs of a session this node is receiving (the ingest
    path's SessionState): its batches still in the spool, and the lock that
    keeps one from moving to a chunk mid-read."""

    site_id: int
    pending: list[PendingBatch]
    cut_lock: asyncio.Lock


class SessionReader:
    """Reads sessions back on this node. `receiving` finds the state of a
    session this node is receiving (the ingestor's), whose newest batches are
    still in the spool."""

    def __init__(
        self,
        db: SessionFactory,
        blobs: BlobStore,
        spool: Spool,
        receiving: Callable[[str], ReceivingSession | None] = lambda _sid: None,
    ) -> None:
        self._db = db
        self.blobs = blobs
        self.spool = spool
        self._receiving = receiving
        self.dictionaries = DictionaryCache(db)

    async def read_session(
        self,
        *,
        session_id: str,
        site_id: int,
        page: int | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
    ) -> SessionEvents:
        """A session's events, all pages in order: stored chunks, then what this
        node still holds in the spool. Unreadable chunks are skipped and reported."""
        return await self.read(
            self._receiving(session_id),
            session_id=session_id,
            site_id=site_id,
            page=page,
            from_ms=from_ms,
            to_ms=to_ms,
        )

    async def read(
        self,
        state: ReceivingSession | None,
        *,
        session_id: str,
        site_id: int,
        page: int | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
    ) -> SessionEvents:
        """A session's events, all pages in order: stored chunks, then the spool.
        A chunk whose blob is missing or cannot be decoded is skipped and reported.
        `state`: the session's, if this node is receiving it."""
        # Holding the cut lock keeps a batch from moving spool -> chunk mid-read.
        lock = state.cut_lock if state is not None else contextlib.nullcontext()
        async with lock:
            chunks = await self._chunk_rows(session_id, page, from_ms, to_ms)
            blobs = await fetch_blobs(self.blobs, [c.blob_key for c in chunks])
            stored = [(c.page, c.first_seq, c.last_seq) for c in chunks]
            pending = await self._pending_events(state, site_id, page, stored)
            seqs = [c.last_seq for c in chunks]
            if state is not None and state.site_id == site_id:
                seqs.extend(p.seq for p in state.pending)
        dictionaries = await self.dictionaries.get_many(c.dictionary_id for c in chunks)
        pieces, missing = await decode_chunks(chunks, blobs, dictionaries)
        for gap in missing:
            log.warning("session %s: chunk %d skipped (%s)", session_id, gap.chunk, gap.reason)
        pieces.extend(pending)
        events = [(p, e) for p, evs in pieces for e in evs if _in_range(e, from_ms, to_ms)]
        events.sort(key=lambda pe: (pe[0], _ts(pe[1])))
        return SessionEvents([e for _, e in events], missing, max(seqs, default=-1))

    async def _chunk_rows(
        self, session_id: str, page: int | None, from_ms: int | None, to_ms: int | None
    ) -> list[Chunk]:
        query = select(Chunk).where(Chunk.session_id == session_id).order_by(Chunk.idx)
        if page is not None:
            query = query.where(Chunk.page == page)
        if from_ms is not None:
            query = query.where(Chunk.last_ts >= from_ms)
        if to_ms is not None:
            query = query.where(Chunk.first_ts <= to_ms)
        async with self._db() as db:
            return list(await db.scalars(query))

    async def _pending_events(
        self,
        state: ReceivingSession | None,
        site_id: int,
        page: int | None,
        stored: list[SeqRange],
    ) -> list[tuple[int, list[dict[str, Any]]]]:
        """Spooled batches, but not those another node has stored meanwhile."""
        if state is None or state.site_id != site_id:
            return []
        taken = [
            p
            for p in state.pending
            if (page is None or p.page == page) and not is_covered(stored, p.page, p.seq)
        ]
        if not taken:
            return []
        payloads = await self.spool.read_many([p.record for p in taken])
        # In a thread, one payload at a time: the loop gets the interpreter back
        # between payloads instead of waiting for the whole backlog.
        batches = [await asyncio.to_thread(decode_spool_payload, p) for p in payloads]
        return [(b.page, b.events) for b in batches]


def _ts(event: dict[str, Any]) -> float:
    ts = event.get("timestamp", 0)
    return float(ts) if isinstance(ts, int | float) else 0.0


def _in_range(event: dict[str, Any], from_ms: int | None, to_ms: int | None) -> bool:
    ts = _ts(event)
    return (from_ms is None or ts >= from_ms) and (to_ms is None or ts <= to_ms)
