"""Hand-made protocol pieces for benchmarks/hostile_attacks.py: raw WebSocket
handshakes and frames (so that headers and frame lengths can lie), and the
hostile payloads themselves, built as bytes (msgpack encoders refuse the
nesting and sizes an attacker is free to send)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
import struct
import time
from dataclasses import dataclass

import msgpack

HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    site_key: str
    origin: str


async def connect(
    target: Target, source_ip: str, timeout: float = 10.0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection from `source_ip` (a loopback address: the server sees
    each attacker or visitor as its own client)."""
    return await asyncio.wait_for(
        asyncio.open_connection(target.host, target.port, local_addr=(source_ip, 0)), timeout
    )


def upgrade_request(target: Target, user_agent: bytes = b"Mozilla/5.0 (X11) bench") -> bytes:
    key = base64.b64encode(os.urandom(16))
    return b"".join(
        [
            b"GET /ingest/ws HTTP/1.1\r\n",
            b"Host: %s:%d\r\n" % (target.host.encode(), target.port),
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n",
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n",
            b"Origin: " + target.origin.encode() + b"\r\n",
            b"User-Agent: " + user_agent + b"\r\n\r\n",
        ]
    )


async def handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send an upgrade request; the HTTP status of the answer."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1])


def frame_header(length: int, opcode: int, mask_key: bytes) -> bytes:
    """A final, masked client frame's header announcing `length` payload bytes."""
    first = bytes([0x80 | opcode])
    if length < 126:
        return first + bytes([0x80 | length]) + mask_key
    if length < 1 << 16:
        return first + bytes([0x80 | 126]) + struct.pack("!H", length) + mask_key
    return first + bytes([0x80 | 127]) + struct.pack("!Q", length) + mask_key


def masked_frame(payload: bytes, opcode: int = 2, announced: int | None = None) -> bytes:
    """A client frame masked with a random key (RFC 6455); `announced`: a
    header that promises more payload than follows."""
    key, n = os.urandom(4), len(payload)
    stream = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return frame_header(n if announced is None else announced, opcode, key) + body


def describe_reply(opcode: int, payload: bytes) -> str:
    """What the server answered, as an outcome key: `welcome`, `ack`,
    `error <code>`, `close <code>` (`opcode`, `payload`: from tests.wsraw.read_frame)."""
    if opcode == -1:
        return "closed without a frame"
    if opcode == 8:
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        return f"close {code}"
    try:
        reply = msgpack.unpackb(payload)
    except ValueError:
        return f"opcode {opcode} (undecodable)"
    if reply.get("t") == "error":
        return f"error {reply.get('code')}"
    return str(reply.get("t"))


def open_ended(value: object) -> bytes:
    """msgpack of `value` whose last element is None, without that nil: the
    caller appends the real last value as raw bytes."""
    packed: bytes = msgpack.packb(value)
    assert packed.endswith(b"\xc0")
    return packed[:-1]


def now_ms() -> int:
    return int(time.time() * 1000)


def inflation_frame(seq: int, maps: int, accepted: bool) -> bytes:
    """A batch frame whose `gz` (~15 KiB for 15 million maps) inflates to `maps`
    empty msgpack maps: as the events list (refused for its length, but only
    once decoded), or as the payload of one custom event (within every limit)."""
    many = b"\xdd" + struct.pack("!I", maps) + b"\x80" * maps
    if accepted:
        custom = {"type": 5, "timestamp": now_ms(), "data": {"tag": "bench", "payload": None}}
        events = open_ended([custom]) + many
    else:
        events = many
    blob = gzip.compress(events, compresslevel=9)
    packed: bytes = msgpack.packb({"t": "batch", "seq": seq, "page": 0, "gz": blob})
    return packed


def json_bomb(kind: str, inflated_bytes: int) -> bytes:
    """A gzip body (~16 KiB) for POST /ingest/batch that inflates to
    `inflated_bytes` of JSON: `wide`, millions of empty objects in `batches`;
    `deep`, arrays nested millions deep."""
    if kind == "wide":
        head = b'{"hello": {}, "batches": ['
        count = (inflated_bytes - len(head) - 2) // 3
        body = head + b"{}," * count + b"{}]}"
    else:
        half = inflated_bytes // 2
        body = b"[" * half + b"]" * half
    return gzip.compress(body, compresslevel=9)


def deep_tree_frame(seq: int, depth: int, href: str) -> bytes:
    """A batch with a Meta event and a FullSnapshot whose DOM nests `depth`
    elements (html, body, then divs) down to one text node."""
    ts = now_ms()
    meta = {"type": 4, "timestamp": ts, "data": {"href": href, "width": 1280, "height": 800}}
    parts = [open_ended({"type": 0, "id": 1, "childNodes": None}) + b"\x91"]
    for level in range(depth):
        tag = ("html", "body")[level] if level < 2 else "div"
        element = {"type": 2, "id": level + 2, "tagName": tag, "attributes": {}, "childNodes": None}
        parts.append(open_ended(element) + b"\x91")
    parts.append(msgpack.packb({"type": 3, "id": depth + 2, "textContent": "deep"}))
    offset = {"top": 0, "left": 0}
    snapshot = {"type": 2, "timestamp": ts, "data": {"initialOffset": offset, "node": None}}
    events: bytes = b"\x92" + msgpack.packb(meta) + open_ended(snapshot) + b"".join(parts)
    return open_ended({"t": "batch", "seq": seq, "page": 0, "events": None}) + events
