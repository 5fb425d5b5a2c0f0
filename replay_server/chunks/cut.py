"""Cutting accepted batches into stored chunks: one chunk per page view per cut,
events in order, compressed (chunks/format.py). Pure CPU work: run it in a thread."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from replay_server.chunks.format import (
    FORMAT_VERSION,
    NO_DICTIONARY,
    QUARANTINED,
    ChunkDictionary,
    encode_chunk,
)
from replay_server.snapshot import EventType
from replay_server.spool.records import SpoolEntry

_FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)


@dataclass(frozen=True)
class BuiltChunk:
    """A chunk ready to store. Its index is allocated when its row is recorded."""

    page: int
    blob_key: str
    data: bytes
    format_version: int
    raw_bytes: int
    first_seq: int
    last_seq: int
    first_ts: int
    last_ts: int
    event_count: int
    has_full_snapshot: bool
    dictionary_id: int = NO_DICTIONARY  # the site dictionary `data` was compressed with


def quarantine_key(site_id: int, sid: str, seq: int, page: int) -> str:
    """Where a batch that cannot be chunked is kept as its raw spool record:
    under the session's prefix, so deleting the session deletes it too."""
    return f"s/{site_id}/{sid}/{seq:012d}-p{page}-{secrets.token_hex(4)}.quarantined"


def blob_key(site_id: int, sid: str, first_seq: int, page: int) -> str:
    """Per site and session, so deleting a session is deleting a prefix. Unique
    per write (a random suffix): two nodes storing the same seqs never overwrite
    each other's blob; the loser of the race deletes its own."""
    return f"s/{site_id}/{sid}/{first_seq:012d}-p{page}-{secrets.token_hex(4)}.rsc"


def quarantined_chunk(
    site_id: int, sid: str, seq: int, page: int, payload: bytes, first_ts: int, last_ts: int
) -> BuiltChunk:
    """The row of a batch kept as it is (QUARANTINED): it reads back as missing."""
    return BuiltChunk(
        page=page,
        blob_key=quarantine_key(site_id, sid, seq, page),
        data=payload,
        format_version=QUARANTINED,
        raw_bytes=0,
        first_seq=seq,
        last_seq=seq,
        first_ts=first_ts,
        last_ts=last_ts,
        event_count=0,
        has_full_snapshot=False,
    )


def build_chunks(
    batches: list[SpoolEntry], dictionary: ChunkDictionary | None = None
) -> list[BuiltChunk]:
    """Group batches by page (in order of first appearance) and encode each group
    (with the site's `dictionary`, if it has one).

    A group is split where the seqs of this cut have a gap, so a chunk's
    [first_seq, last_seq] holds every batch of its page in that range: the
    range is what deduplication across nodes checks (ChunkCatalog.record_chunks).
    """
    chunks = []
    for group in _runs(batches):
        events = [event for batch in group for event in batch.events]
        events.sort(key=_timestamp)  # stable: ties keep their recorded order
        data, raw_bytes = encode_chunk(events, dictionary)
        first = group[0]
        chunks.append(
            BuiltChunk(
                page=first.page,
                blob_key=blob_key(first.site_id, first.sid, first.seq, first.page),
                data=data,
                format_version=FORMAT_VERSION,
                raw_bytes=raw_bytes,
                first_seq=first.seq,
                last_seq=group[-1].seq,
                first_ts=int(_timestamp(events[0])) if events else 0,
                last_ts=int(_timestamp(events[-1])) if events else 0,
                event_count=len(events),
                has_full_snapshot=any(e.get("type") == _FULL_SNAPSHOT for e in events),
                dictionary_id=dictionary.id if dictionary is not None else NO_DICTIONARY,
            )
        )
    return chunks


def _runs(batches: list[SpoolEntry]) -> list[list[SpoolEntry]]:
    """Batches by page, each page split where a seq of the whole cut is missing."""
    position = {seq: i for i, seq in enumerate(sorted({b.seq for b in batches}))}
    runs: dict[tuple[int, int], list[SpoolEntry]] = {}
    last_of_page: dict[int, tuple[tuple[int, int], int]] = {}  # page -> (run key, last seq)
    for batch in batches:
        current = last_of_page.get(batch.page)
        contiguous = current is not None and _no_gap(position, current[1], batch.seq)
        key = current[0] if contiguous and current is not None else (batch.page, batch.seq)
        runs.setdefault(key, []).append(batch)
        last_of_page[batch.page] = (key, batch.seq)
    return list(runs.values())


def _no_gap(position: dict[int, int], low: int, high: int) -> bool:
    """True when every seq between `low` and `high` is a batch of this cut."""
    return high > low and position[high] - position[low] == high - low


def _timestamp(event: dict[str, Any]) -> float:
    ts = event.get("timestamp", 0)
    return float(ts) if isinstance(ts, int | float) else 0.0
