"""What the spool holds for each acked batch: its entry, a msgpack map of the
batch's site, session, seq and page, and either the protocol v1 frame it came
in (`frame`: stored as received when masking changed nothing) or its events
re-encoded (`ev`). The spool's framing of entries on disk is spool/log.py's.

A batch on its way through the node: `protocol.Batch` (the wire) ->
`ingest.prep.PreparedBatch` (decoded, bounded, validated, masked) -> a spool
entry (these bytes; `PendingBatch` in ingest/state.py is where it is until
it is chunked) -> `RawEntry` (the bytes and their header, handed to the chunk
builder) -> `SpoolEntry` (decoded in the chunk worker) -> `chunks.cut.BuiltChunk`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from replay_server.protocol import Limits, decode_msgpack, parse_batch, unpack_frame
from replay_server.spool.log import SpoolRecord

# A spooled frame was checked against the configured limits when it arrived.
TRUSTED_BATCH_BYTES = 1 << 31
TRUSTED_BATCH_EVENTS = 1 << 31
TRUSTED_BATCH_ITEMS = 1 << 31


@dataclass(frozen=True)
class SpoolEntry:
    """One accepted batch as the spool holds it, decoded."""

    site_id: int
    sid: str
    seq: int
    page: int
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class RawEntry:
    """A spool entry as bytes (`payload`, encode_spool_payload's) and what its
    header says, with its time span where the ingest path knows it (0 when not)."""

    site_id: int
    sid: str
    seq: int
    page: int
    payload: bytes
    first_ts: int = 0
    last_ts: int = 0

    @classmethod
    def of(cls, entry: SpoolEntry) -> RawEntry:
        return cls(entry.site_id, entry.sid, entry.seq, entry.page, encode_spool_payload(entry))


@dataclass(frozen=True)
class PendingBatch:
    """An acked batch that is in the spool but not yet in a stored chunk."""

    record: SpoolRecord
    seq: int
    page: int
    first_ts: int
    last_ts: int
    event_count: int
    has_full_snapshot: bool
    raw_bytes: int  # the events decoded (msgpack): what a cut will decode and hold


def encode_spool_payload(entry: SpoolEntry, frame: bytes | None = None) -> bytes:
    """The spool entry of a batch. With `frame` (the protocol v1 frame the batch
    arrived in, when its events are stored exactly as received) the frame is kept
    as it is, which costs a copy instead of encoding the events again."""
    header = {"site": entry.site_id, "sid": entry.sid, "seq": entry.seq, "page": entry.page}
    packed: bytes = msgpack.packb(
        {**header, "frame": frame} if frame is not None else {**header, "ev": entry.events},
        use_bin_type=True,
    )
    return packed


def encode_spool_payload_of_packed(
    site_id: int, sid: str, seq: int, page: int, packed_events: bytes
) -> bytes:
    """encode_spool_payload's `ev` entry, from events already packed (msgpack)
    elsewhere: a msgpack map is its header then its keys and values in a row,
    so the packed events are appended as the last value, not packed again."""
    header = {"site": site_id, "sid": sid, "seq": seq, "page": page}
    packed: bytes = msgpack.packb(header, use_bin_type=True)
    assert packed[0] == 0x80 | len(header)  # a fixmap: its size is in its first byte
    ev_key: bytes = msgpack.packb("ev")
    return bytes([0x80 | (len(header) + 1)]) + packed[1:] + ev_key + packed_events


def decode_spool_payload(payload: bytes) -> SpoolEntry:
    value = decode_msgpack(payload)
    frame = value.get("frame")
    events = value["ev"] if frame is None else _frame_events(frame)
    return SpoolEntry(value["site"], value["sid"], value["seq"], value["page"], events)


def spool_header(payload: bytes) -> tuple[int, str, int, int]:
    """(site id, sid, seq, page) of a spool entry, without decoding the
    events of a frame entry (recovery reads them in the chunk worker)."""
    value = decode_msgpack(payload)
    site, sid, seq, page = value["site"], value["sid"], value["seq"], value["page"]
    if not (type(site) is int and type(sid) is str and type(seq) is int and type(page) is int):
        raise ValueError("spool entry header has the wrong types")
    return site, sid, seq, page


def _frame_events(frame: bytes) -> list[dict[str, Any]]:
    """The events of a frame the ingest path accepted (so valid, within its limits)."""
    limits = Limits(len(frame), TRUSTED_BATCH_BYTES, TRUSTED_BATCH_EVENTS, TRUSTED_BATCH_ITEMS)
    return parse_batch(unpack_frame(frame, limits), limits).events
