"""Reading stored chunks back for replay, tolerating damage: a chunk whose blob
is missing or cannot be decoded is skipped and reported (`MissingChunk`), so a
session still replays what it can and the player can say what is missing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..db.models import Chunk
from ..errors import CorruptChunk, NotFound
from ..storage.base import BlobStore
from .chunk_format import decode_chunk

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
    chunks: list[Chunk], blobs: list[bytes | _Absent]
) -> tuple[list[tuple[int, list[dict[str, Any]]]], list[MissingChunk]]:
    """(page, events) of every readable chunk, and a report of the others."""
    pieces: list[tuple[int, list[dict[str, Any]]]] = []
    missing: list[MissingChunk] = []
    for chunk, data in zip(chunks, blobs, strict=True):
        reason = data.reason if isinstance(data, _Absent) else ""
        if isinstance(data, bytes):
            try:
                pieces.append((chunk.page, await asyncio.to_thread(decode_chunk, data)))
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
