"""Start-up recovery: batches acked by an earlier run but not yet chunked are
in leftover spool segments. Chunk them, then delete the segments.

Batches another node stored meanwhile (the recorder resent them there) are
dropped by the ChunkWriter, so recovery never stores a batch twice."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from .chunk_build import RawBatch
from .chunker import decode_spool_payload
from .spool import read_segment
from .storing import ChunkWriter

log = logging.getLogger(__name__)


async def recover_spool(segments: list[Path], writer: ChunkWriter) -> int:
    """Return how many batches were recovered into chunks."""
    by_session = await asyncio.to_thread(_read_segments, segments)
    recovered = 0
    for sid, batches in by_session.items():
        # The insight carry of the crashed run is lost: metrics start afresh here.
        stored = await writer.store(sid, batches)
        recovered += stored.batches
    for path in segments:
        path.unlink(missing_ok=True)
    log.info(
        "recovered %d batches of %d sessions from %d spool segments",
        recovered,
        len(by_session),
        len(segments),
    )
    return recovered


def _read_segments(segments: list[Path]) -> dict[str, list[RawBatch]]:
    by_session: dict[str, list[RawBatch]] = {}
    for path in segments:
        for payload in read_segment(path):
            try:
                batch = decode_spool_payload(payload)
            except (ValueError, KeyError, TypeError):
                log.warning("spool %s: undecodable record skipped", path)
                continue
            raw = RawBatch(batch.site_id, batch.sid, batch.seq, batch.page, payload)
            by_session.setdefault(batch.sid, []).append(raw)
    return by_session
