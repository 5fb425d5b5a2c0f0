"""Start-up recovery: batches acked by an earlier run but not yet chunked are
in leftover spool segments. Chunk them, then delete the segments.

Batches another node stored meanwhile (the recorder resent them there) are
dropped by the ChunkWriter, so recovery never stores a batch twice.

Recovery never stops the server from starting: a record that cannot be
chunked is quarantined by the writer, a record whose header cannot even be
read is kept aside in the blob store, and a session that cannot be stored
now (storage or database unreachable) keeps its segments for a later try."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from replay_server.chunks.writer import ChunkWriter
from replay_server.spool.log import read_segment
from replay_server.spool.records import RawEntry, spool_header

log = logging.getLogger(__name__)


@dataclass
class Recovery:
    recovered: int = 0  # batches stored as chunks
    quarantined: int = 0  # batches kept aside (cannot be chunked, or unreadable)
    kept: list[Path] = field(default_factory=list)  # segments to try again later


@dataclass
class _Read:
    by_session: dict[str, list[RawEntry]] = field(default_factory=dict)
    sessions_in: dict[Path, set[str]] = field(default_factory=lambda: defaultdict(set))
    unreadable: list[tuple[Path, int, bytes]] = field(default_factory=list)
    failed_paths: set[Path] = field(default_factory=set)


async def recover_spool(segments: list[Path], writer: ChunkWriter) -> Recovery:
    read = await asyncio.to_thread(_read_segments, segments)
    result = Recovery()
    failed: set[str] = set()
    for sid, batches in read.by_session.items():
        # The insight carry of the crashed run is lost: metrics start afresh here.
        try:
            stored = await writer.store(sid, batches)
        except Exception:
            # The outermost boundary of recovery: whatever failed, the others go on.
            log.exception("recovering session %s failed; its spool segments are kept", sid)
            failed.add(sid)
            continue
        result.recovered += stored.batches
        result.quarantined += stored.quarantined
    for path, index, payload in read.unreadable:
        key = f"quarantine/{path.stem}-{index:08d}.unreadable"
        try:
            await writer.blobs.put(key, payload)
        except Exception:
            log.exception("could not keep unreadable spool record %s #%d aside", path, index)
            read.failed_paths.add(path)
            continue
        log.error("spool %s: record #%d cannot be read; kept aside as %s", path, index, key)
        result.quarantined += 1
    for path in segments:
        if path in read.failed_paths or read.sessions_in[path] & failed:
            result.kept.append(path)
        else:
            path.unlink(missing_ok=True)
    log.info(
        "recovered %d batches of %d sessions from %d spool segments "
        "(%d quarantined, %d segments kept for a later try)",
        result.recovered,
        len(read.by_session),
        len(segments),
        result.quarantined,
        len(result.kept),
    )
    return result


def _read_segments(segments: list[Path]) -> _Read:
    read = _Read()
    for path in segments:
        try:
            payloads = list(read_segment(path))
        except OSError:
            log.exception("spool %s cannot be read; kept for a later try", path)
            read.failed_paths.add(path)
            continue
        for index, payload in enumerate(payloads):
            try:
                site_id, sid, seq, page = spool_header(payload)
            except Exception:
                # Whatever a damaged record raises: it is kept, not lost.
                read.unreadable.append((path, index, payload))
                continue
            read.by_session.setdefault(sid, []).append(RawEntry(site_id, sid, seq, page, payload))
            read.sessions_in[path].add(sid)
    return read
