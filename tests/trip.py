"""The whole trip of a recorded batch, in process: what the ingest edge does
with a frame (decode, bound, validate, mask), the spool record, the chunk
worker's build, the chunk read back, and every encoder of the read paths.

`ride(frame)` returns None when the edge refused the frame with a domain
error, or the events as every read path serves them; it raises (and so fails
a test) when something past the edge breaks or reads back other data."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import msgpack

from replay_server.api.live import _dumps, _events_frame
from replay_server.api.privacy import _json as export_json
from replay_server.api.v1 import _json_body, _msgpack_body
from replay_server.chunks.build import build_cut
from replay_server.chunks.format import decode_chunk
from replay_server.enrich.behaviour import InsightCarry
from replay_server.errors import ReplayError
from replay_server.ingest.prep.preparer import FrameContext, FramePreparer, PreparedBatch
from replay_server.live.broker import LiveMessage, batch_events
from replay_server.privacy.masking import MaskPolicy
from replay_server.protocol import (
    MAX_PAGE,
    Batch,
    Limits,
    decode_http_body,
    parse_batch,
    parse_hello,
)
from replay_server.snapshot import EventLimits
from replay_server.spool.records import (
    SpoolEntry,
    decode_spool_payload,
    encode_spool_payload,
    encode_spool_payload_of_packed,
)

# The defaults of Settings: what a node runs with.
LIMITS = Limits(4 * 1024 * 1024, 16 * 1024 * 1024, 10_000, 500_000)
EVENT_LIMITS = EventLimits(max_tree_depth=245, max_string_length=1024 * 1024)
SKEW_MS = 86_400_000


@dataclass
class Trip:
    preparer: FramePreparer
    sid: str

    @classmethod
    def new(cls) -> Trip:
        return cls(FramePreparer(LIMITS, EVENT_LIMITS, SKEW_MS), str(uuid.uuid4()))

    def context(self) -> FrameContext:
        return FrameContext(self.sid, -1, MAX_PAGE, 0, MaskPolicy())

    def ride(self, frame: bytes) -> list[dict[str, Any]] | None:
        """A WebSocket frame's trip."""
        try:
            prepared = self.preparer.prepare(frame, self.context())
        except ReplayError:
            return None
        if prepared is None:
            return None  # a hello or a bye: not a batch
        return self._onwards(prepared, frame)

    def ride_http(self, body: bytes, content_type: str) -> list[list[dict[str, Any]]] | None:
        """A POST /ingest/batch body's trip: each batch's events as served."""
        try:
            payload = decode_http_body(body, content_type, LIMITS)
            hello_raw, batches_raw = payload.get("hello"), payload.get("batches", [])
            if not isinstance(hello_raw, dict) or not isinstance(batches_raw, list):
                return None
            parse_hello(hello_raw)
            if not all(isinstance(b, dict) for b in batches_raw):
                return None
            batches = [parse_batch(b, LIMITS) for b in batches_raw]
        except ReplayError:
            return None
        served = []
        for batch in batches:
            prepared = self.preparer.prepare_batch(batch, self.context())
            events = self._onwards(prepared, None)
            if events is not None:
                served.append(events)
        return served

    def _onwards(self, prepared: PreparedBatch, frame: bytes | None) -> list[dict[str, Any]] | None:
        if prepared.problem is not None:
            return None
        assert prepared.summary is not None
        seq, page = prepared.seq, prepared.page
        if prepared.events is not None:
            payload = encode_spool_payload_of_packed(1, self.sid, seq, page, prepared.events)
        else:
            assert frame is not None
            payload = encode_spool_payload(SpoolEntry(1, self.sid, seq, page, []), frame)
        spooled = decode_spool_payload(payload)
        assert len(spooled.events) == prepared.summary.event_count
        # The chunk worker's build, then the chunk read back.
        cut = build_cut([payload], InsightCarry())
        stored = [event for chunk in cut.chunks for event in decode_chunk(chunk.data)]
        assert stored == sorted(spooled.events, key=_ts)
        # Every read path's encoder.
        served = json.loads(_json_body({"events": stored, "missing": []}))["events"]
        assert served == stored
        assert msgpack.unpackb(_msgpack_body({"events": stored}))["events"] == stored
        assert json.loads(export_json({"events": stored}))["events"] == stored
        live = LiveMessage(self.sid, seq, page, stored)
        assert json.loads(_dumps(_events_frame(live)))["events"] == stored
        assert batch_events(payload) == spooled.events  # the Redis broker's viewers
        return served


def batch_frame(seq: int, events: Any, page: int = 0) -> bytes:
    return pack_any({"t": "batch", "seq": seq, "page": page, "events": events})


def pack_any(value: Any) -> bytes:
    """msgpack of any nesting, as a hostile client may send (the libraries
    refuse to pack past ~1,000 levels): containers iteratively, scalars by msgpack."""
    packer = msgpack.Packer(use_bin_type=True)
    out: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            out.append(packer.pack_map_header(len(item)))
            for key, child in reversed(list(item.items())):
                stack.append(child)
                stack.append(key)
        elif type(item) is list:
            out.append(packer.pack_array_header(len(item)))
            stack.extend(reversed(item))
        else:
            out.append(packer.pack(item))
    return b"".join(out)


def _ts(event: dict[str, Any]) -> float:
    ts = event.get("timestamp", 0)
    return float(ts) if isinstance(ts, int | float) else 0.0


__all__ = ["LIMITS", "Batch", "Trip", "batch_frame", "pack_any"]
