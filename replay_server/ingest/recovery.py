"""Start-up recovery: batches acked by an earlier run but not yet chunked are
in leftover spool segments. Chunk them, then delete the segments."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from ..storage.base import BlobStore
from .catalog import Catalog
from .chunker import SpooledBatch, build_chunks, decode_spool_payload
from .spool import read_segment

log = logging.getLogger(__name__)


async def recover_spool(segments: list[Path], catalog: Catalog, blobs: BlobStore) -> int:
    """Return how many batches were recovered into chunks."""
    by_session = await asyncio.to_thread(_read_segments, segments)
    recovered = 0
    for sid, batches in by_session.items():
        cursor = await catalog.cursor(sid)
        if cursor is None:
            log.warning("spool holds batches of unknown session %s; dropped", sid)
            continue
        fresh = _unique_after(batches, cursor.chunked_seq)
        if not fresh:
            continue
        chunks = await asyncio.to_thread(build_chunks, fresh, cursor.next_chunk_idx)
        for chunk in chunks:
            await blobs.put(chunk.blob_key, chunk.data)
        await catalog.record_chunks(sid, chunks, int(time.time() * 1000))
        recovered += len(fresh)
    for path in segments:
        path.unlink(missing_ok=True)
    log.info(
        "recovered %d batches of %d sessions from %d spool segments",
        recovered,
        len(by_session),
        len(segments),
    )
    return recovered


def _read_segments(segments: list[Path]) -> dict[str, list[SpooledBatch]]:
    by_session: dict[str, list[SpooledBatch]] = {}
    for path in segments:
        for payload in read_segment(path):
            try:
                batch = decode_spool_payload(payload)
            except (ValueError, KeyError, TypeError):
                log.warning("spool %s: undecodable record skipped", path)
                continue
            by_session.setdefault(batch.sid, []).append(batch)
    return by_session


def _unique_after(batches: list[SpooledBatch], chunked_seq: int) -> list[SpooledBatch]:
    seen: dict[int, SpooledBatch] = {}
    for batch in batches:
        if batch.seq > chunked_seq:
            seen.setdefault(batch.seq, batch)
    return [seen[seq] for seq in sorted(seen)]
