"""The body of an HTTP fallback request (`POST /ingest/batch`), turned into the
protocol v1 frames a WebSocket would have carried: a hello frame and one
frame per batch, in seq order.

Decoding a body is the costly, attacker-shaped part of that endpoint (a few
KB of gzip can inflate to megabytes of JSON), so it runs where frames are
prepared: in a frame worker process, off the event loop. The frames then
take the WebSocket's path (prep/preparer.py), which checks each batch again as it
checks any frame. Pure: no I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from replay_server.bounds import StructureLimits, check_events, pack
from replay_server.errors import InvalidMessage
from replay_server.protocol import Hello, Limits, decode_http_body, parse_batch, parse_hello

MAX_BATCHES_PER_REQUEST = 1000


@dataclass(frozen=True)
class HttpFrames:
    hello: bytes
    batches: list[bytes]


def split_http_body(body: bytes, content_type: str, limits: Limits) -> HttpFrames:
    """Raises ReplayError (the request's answer) for a body that is not a
    hello plus at most MAX_BATCHES_PER_REQUEST batches every stage can carry."""
    payload = decode_http_body(body, content_type, limits)
    hello_raw, batches_raw = payload.get("hello"), payload.get("batches", [])
    if not isinstance(hello_raw, dict):
        raise InvalidMessage("body needs a hello map", code="hello_required")
    if not isinstance(batches_raw, list) or len(batches_raw) > MAX_BATCHES_PER_REQUEST:
        raise InvalidMessage(f"batches must be an array of at most {MAX_BATCHES_PER_REQUEST}")
    hello = parse_hello(hello_raw)
    structure = StructureLimits(limits.max_items)
    batches = []
    for raw in batches_raw:
        if not isinstance(raw, dict):
            raise InvalidMessage("each batch must be a map")
        batch = parse_batch(raw, limits)
        if isinstance(batch.events, list):
            check_events(batch.events, structure)  # so that it can be packed
        batches.append(batch)
    batches.sort(key=lambda b: b.seq)
    return HttpFrames(
        hello=pack(hello_frame(hello)),
        batches=[
            pack({"t": "batch", "seq": b.seq, "page": b.page, "events": b.events}) for b in batches
        ],
    )


def hello_frame(hello: Hello) -> dict[str, Any]:
    fields = dataclasses.asdict(hello)
    for name in ("viewport", "screen"):
        if fields[name] is not None:
            fields[name] = list(fields[name])
    return {"t": "hello", "v": 1, **fields}
