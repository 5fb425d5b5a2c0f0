"""Storing batches as chunks, safely when several nodes store one session.

Used by every path that turns batches into stored chunks: a cut of the spool,
start-up recovery of leftover spool segments, and `REPLAY_ACK_MODE=storage`
(where a batch is stored before it is acked).

Exactly-once across nodes: a recorder may resend a batch to node B that node A
acked and still holds in its spool (A acked it, the ack was lost, or the
recorder moved before A stored it). Both nodes then store it eventually. So a
batch is stored only if no stored chunk of its page covers its seq yet: the
writer drops covered batches, builds chunks from the rest, writes the blobs
under keys unique to this write, and records the rows in one transaction that
checks again under a lock on the session row (ChunkCatalog.record_chunks). If
another node won the race, the writer deletes its blobs and tries again with
what is still uncovered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from replay_server.chunks.build import BuildFailed, BuildResult, ChunkBuilder
from replay_server.chunks.catalog import ChunkCatalog
from replay_server.chunks.cut import BuiltChunk, quarantined_chunk
from replay_server.chunks.dictionary_store import NewestDictionaries
from replay_server.chunks.format import ChunkDictionary
from replay_server.chunks.rows import ChunkConflict, SeqRange, is_covered
from replay_server.enrich.behaviour import ChunkInsights, InsightCarry
from replay_server.errors import StorageError
from replay_server.spool.records import RawEntry
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PUT_CONCURRENCY = 4


@dataclass
class StoredCut:
    """What one store call wrote (possibly nothing) and the insight carry after it."""

    chunks: list[BuiltChunk] = field(default_factory=list)
    carry: InsightCarry = field(default_factory=InsightCarry)
    duplicates: int = 0  # batches dropped because another chunk holds them already
    batches: int = 0  # batches stored by this call
    quarantined: int = 0  # batches that could not be chunked, kept aside (dead letter)


class ChunkWriter:
    """`dictionaries`: each site's newest zstd dictionary (looked up in the
    catalog's database unless given), which new chunks are compressed with."""

    def __init__(
        self,
        catalog: ChunkCatalog,
        blobs: BlobStore,
        builder: ChunkBuilder,
        dictionaries: NewestDictionaries | None = None,
    ) -> None:
        self.catalog = catalog
        self.blobs = blobs
        self.builder = builder
        self.dictionaries = dictionaries or NewestDictionaries(catalog.db)

    async def store(
        self, sid: str, batches: list[RawEntry], carry: InsightCarry | None = None
    ) -> StoredCut:
        """Store what no chunk of the session holds yet. `carry` is not modified."""
        start = carry if carry is not None else InsightCarry()
        unique = _unique(batches)
        for _ in range(MAX_ATTEMPTS):
            ranges = await self.catalog.stored_ranges(sid)
            if ranges is None:
                log.warning("batches of unknown or deleted session %s dropped", sid)
                return StoredCut(carry=start)
            fresh = uncovered(unique, ranges)
            duplicates = len(unique) - len(fresh)
            if not fresh:
                return StoredCut(carry=start, duplicates=duplicates)
            dictionary = await self.dictionaries.newest(fresh[0].site_id)
            built = await self._build(sid, fresh, start, dictionary)
            chunks = built.chunks + built.quarantined
            try:
                await self._put_all(chunks)
            except Exception:
                # E.g. a full disk: the blobs that did land are never used (a
                # retry writes new keys), so they must not hold the space.
                await self._discard(chunks)
                raise
            try:
                recorded = await self.catalog.record_chunks(sid, chunks, now_ms(), built.insights)
            except ChunkConflict:
                await self._discard(chunks)
                continue
            except Exception:
                # Not on cancellation: the rows may be committed by then, and a
                # blob nobody points to is harmless where a row without its blob
                # is not.
                await self._discard(chunks)
                raise
            if not recorded:
                await self._discard(chunks)
                return StoredCut(carry=start)
            for chunk in built.quarantined:
                log.error(
                    "session %s: batch %d (page %d) cannot be chunked (%s); kept as %s "
                    "and reported as missing",
                    sid,
                    chunk.first_seq,
                    chunk.page,
                    built.failure,
                    chunk.blob_key,
                )
            stored = len(fresh) - len(built.quarantined)
            return StoredCut(built.chunks, built.carry, duplicates, stored, len(built.quarantined))
        raise StorageError(f"session {sid}: chunks kept conflicting with other nodes' chunks")

    async def _build(
        self,
        sid: str,
        batches: list[RawEntry],
        carry: InsightCarry,
        dictionary: ChunkDictionary | None,
    ) -> BuildResult:
        """Chunks of `batches`. A record that cannot be chunked must not block
        the others, nor be retried forever: when building fails, each batch is
        built alone, and those that fail alone are quarantined (kept as they
        are, recorded as chunks that read back as missing)."""
        try:
            return BuildResult.of(await self.builder.build(batches, carry, dictionary))
        except BuildFailed as e:
            failure = str(e)
            log.warning("session %s: building %d batches failed (%s)", sid, len(batches), e)
        good: list[RawEntry] = []
        poison: list[RawEntry] = []
        for batch in batches:
            try:
                await self.builder.build([batch], InsightCarry(), dictionary)
                good.append(batch)
            except BuildFailed as e:
                failure = str(e)
                poison.append(batch)
        if not poison:
            # Each builds alone: the failure was the group's (a worker that died).
            raise StorageError(f"session {sid}: building chunks failed ({failure})")
        kept = [
            quarantined_chunk(b.site_id, sid, b.seq, b.page, b.payload, b.first_ts, b.last_ts)
            for b in poison
        ]
        if not good:
            return BuildResult([], ChunkInsights(), carry, kept, failure)
        built = await self.builder.build(good, carry, dictionary)
        return BuildResult(built.chunks, built.insights, built.carry, kept, failure)

    async def _put_all(self, chunks: list[BuiltChunk]) -> None:
        limit = asyncio.Semaphore(PUT_CONCURRENCY)

        async def put(chunk: BuiltChunk) -> None:
            async with limit:
                await self.blobs.put(chunk.blob_key, chunk.data)

        # Every put finished (or failed) before a failure is raised and discarded.
        results = await asyncio.gather(*(put(c) for c in chunks), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _discard(self, chunks: list[BuiltChunk]) -> None:
        """Blobs no row points to: delete them (each key is unique to this write)."""
        for chunk in chunks:
            try:
                await self.blobs.delete_prefix(chunk.blob_key)
            except StorageError as e:
                # Harmless: an unreferenced blob under the session's prefix, gone
                # when the session is deleted.
                log.warning("could not delete unused blob %s: %s", chunk.blob_key, e)


def uncovered(batches: list[RawEntry], ranges: list[SeqRange]) -> list[RawEntry]:
    return [b for b in batches if not is_covered(ranges, b.page, b.seq)]


def _unique(batches: list[RawEntry]) -> list[RawEntry]:
    """One batch per seq (the first seen), in seq order."""
    seen: dict[int, RawEntry] = {}
    for batch in batches:
        seen.setdefault(batch.seq, batch)
    return [seen[seq] for seq in sorted(seen)]
