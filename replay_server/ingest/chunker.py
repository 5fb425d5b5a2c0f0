"""Cutting accepted batches into stored chunks: one chunk per page view per cut,
events in order, compressed (chunk_format). Pure CPU work: run it in a thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from ..snapshot import EventType
from .chunk_format import FORMAT_VERSION, encode_chunk


@dataclass(frozen=True)
class SpooledBatch:
    """One accepted batch as it sits in the spool."""

    site_id: int
    sid: str
    seq: int
    page: int
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class BuiltChunk:
    idx: int
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


def encode_spool_payload(batch: SpooledBatch) -> bytes:
    packed: bytes = msgpack.packb(
        {
            "site": batch.site_id,
            "sid": batch.sid,
            "seq": batch.seq,
            "page": batch.page,
            "ev": batch.events,
        },
        use_bin_type=True,
    )
    return packed


def decode_spool_payload(payload: bytes) -> SpooledBatch:
    value = msgpack.unpackb(payload, raw=False)
    return SpooledBatch(value["site"], value["sid"], value["seq"], value["page"], value["ev"])


def blob_key(site_id: int, sid: str, idx: int) -> str:
    """Per site and session, so deleting a session is deleting a prefix."""
    return f"s/{site_id}/{sid}/{idx:06d}.rsc"


def build_chunks(batches: list[SpooledBatch], first_idx: int) -> list[BuiltChunk]:
    """Group batches by page (in order of first appearance) and encode each group."""
    by_page: dict[int, list[SpooledBatch]] = {}
    for batch in batches:
        by_page.setdefault(batch.page, []).append(batch)
    chunks = []
    for offset, (page, group) in enumerate(by_page.items()):
        events = [event for batch in group for event in batch.events]
        events.sort(key=_timestamp)  # stable: ties keep their recorded order
        data, raw_bytes = encode_chunk(events)
        idx = first_idx + offset
        chunks.append(
            BuiltChunk(
                idx=idx,
                page=page,
                blob_key=blob_key(group[0].site_id, group[0].sid, idx),
                data=data,
                format_version=FORMAT_VERSION,
                raw_bytes=raw_bytes,
                first_seq=group[0].seq,
                last_seq=group[-1].seq,
                first_ts=int(_timestamp(events[0])),
                last_ts=int(_timestamp(events[-1])),
                event_count=len(events),
                has_full_snapshot=any(e.get("type") == EventType.FULL_SNAPSHOT for e in events),
            )
        )
    return chunks


def _timestamp(event: dict[str, Any]) -> float:
    ts = event.get("timestamp", 0)
    return float(ts) if isinstance(ts, int | float) else 0.0
