"""Cutting accepted batches into stored chunks: one chunk per page view per cut,
events in order, compressed (chunk_format). Pure CPU work: run it in a thread."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import msgpack

from replay_server.ingest.chunk_format import FORMAT_VERSION, QUARANTINED, encode_chunk
from replay_server.protocol import Limits, decode_msgpack, parse_batch, unpack_frame
from replay_server.snapshot import EventType

_FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)
# A spooled frame was checked against the configured limits when it arrived.
TRUSTED_BATCH_BYTES = 1 << 31
TRUSTED_BATCH_EVENTS = 1 << 31
TRUSTED_BATCH_ITEMS = 1 << 31


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


def encode_spool_payload(batch: SpooledBatch, frame: bytes | None = None) -> bytes:
    """The spool record of a batch. With `frame` (the protocol v1 frame the batch
    arrived in, when its events are stored exactly as received) the frame is kept
    as it is, which costs a copy instead of encoding the events again."""
    header = {"site": batch.site_id, "sid": batch.sid, "seq": batch.seq, "page": batch.page}
    packed: bytes = msgpack.packb(
        {**header, "frame": frame} if frame is not None else {**header, "ev": batch.events},
        use_bin_type=True,
    )
    return packed


def encode_spool_payload_of_packed(
    site_id: int, sid: str, seq: int, page: int, packed_events: bytes
) -> bytes:
    """encode_spool_payload's `ev` record, from events already packed (msgpack)
    elsewhere: a msgpack map is its header then its keys and values in a row,
    so the packed events are appended as the last value, not packed again."""
    header = {"site": site_id, "sid": sid, "seq": seq, "page": page}
    packed: bytes = msgpack.packb(header, use_bin_type=True)
    assert packed[0] == 0x80 | len(header)  # a fixmap: its size is in its first byte
    ev_key: bytes = msgpack.packb("ev")
    return bytes([0x80 | (len(header) + 1)]) + packed[1:] + ev_key + packed_events


def decode_spool_payload(payload: bytes) -> SpooledBatch:
    value = decode_msgpack(payload)
    frame = value.get("frame")
    events = value["ev"] if frame is None else _frame_events(frame)
    return SpooledBatch(value["site"], value["sid"], value["seq"], value["page"], events)


def spool_header(payload: bytes) -> tuple[int, str, int, int]:
    """(site id, sid, seq, page) of a spool record, without decoding the
    events of a frame record (recovery reads them in the chunk worker)."""
    value = decode_msgpack(payload)
    site, sid, seq, page = value["site"], value["sid"], value["seq"], value["page"]
    if not (type(site) is int and type(sid) is str and type(seq) is int and type(page) is int):
        raise ValueError("spool record header has the wrong types")
    return site, sid, seq, page


def _frame_events(frame: bytes) -> list[dict[str, Any]]:
    """The events of a frame the ingest path accepted (so valid, within its limits)."""
    limits = Limits(len(frame), TRUSTED_BATCH_BYTES, TRUSTED_BATCH_EVENTS, TRUSTED_BATCH_ITEMS)
    return parse_batch(unpack_frame(frame, limits), limits).events


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


def build_chunks(batches: list[SpooledBatch]) -> list[BuiltChunk]:
    """Group batches by page (in order of first appearance) and encode each group.

    A group is split where the seqs of this cut have a gap, so a chunk's
    [first_seq, last_seq] holds every batch of its page in that range: the
    range is what deduplication across nodes checks (Catalog.record_chunks).
    """
    chunks = []
    for group in _runs(batches):
        events = [event for batch in group for event in batch.events]
        events.sort(key=_timestamp)  # stable: ties keep their recorded order
        data, raw_bytes = encode_chunk(events)
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
            )
        )
    return chunks


def _runs(batches: list[SpooledBatch]) -> list[list[SpooledBatch]]:
    """Batches by page, each page split where a seq of the whole cut is missing."""
    position = {seq: i for i, seq in enumerate(sorted({b.seq for b in batches}))}
    runs: dict[tuple[int, int], list[SpooledBatch]] = {}
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
