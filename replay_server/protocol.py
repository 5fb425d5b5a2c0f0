"""Protocol v1 messages (docs/protocol.md): decoding untrusted frames into typed
messages, and encoding the server's replies. No I/O here."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import msgpack
import ormsgpack

from replay_server.bounds import decode_bounded, has_json_surrogate_escape, repair_surrogates
from replay_server.errors import InvalidMessage, TooLarge
from replay_server.text import clean_text

PROTOCOL_VERSION = 1
SITE_KEY_RE = re.compile(r"^pk_[A-Za-z0-9_-]{16,60}$")
MAX_URL = 8192
MAX_TITLE = 2048
MAX_SHORT = 100
MAX_PAGE = 100_000
MAX_DIMENSION = 100_000
# Recorded events compress 5-15x (docs/benchmarks.md); gzip can reach ~1,000x
# on data made for it.
MAX_INFLATE_RATIO = 200
MIN_INFLATE_BYTES = 1024 * 1024
# What the decoder raises on hostile input (MsgpackDecodeError is a ValueError).
_MSGPACK_ERRORS = (ValueError, TypeError, ormsgpack.MsgpackDecodeError)


def decode_msgpack(data: bytes) -> Any:
    """Decode untrusted msgpack: maps with string keys only, no extension types,
    nesting bounded (ormsgpack: ~2.5x faster than msgpack-python on rrweb events,
    and this runs for every frame)."""
    return ormsgpack.unpackb(data)


@dataclass(frozen=True)
class Hello:
    site: str
    sid: str
    vid: str
    page: int
    url: str
    referrer: str
    title: str
    viewport: tuple[int, int] | None
    screen: tuple[int, int] | None
    lang: str
    tz: str
    clock: int


@dataclass(frozen=True)
class Batch:
    seq: int
    page: int
    events: list[dict[str, Any]]
    # Size of the events as msgpack once decompressed (the frame's size when
    # they came uncompressed; 0 when unknown, e.g. from JSON).
    raw_bytes: int = 0


@dataclass(frozen=True)
class Bye:
    pass


Message = Hello | Batch | Bye


# Containers plus values of one decoded batch (bounds.check_events); a real
# recorder's batches hold a few thousand, a 10,000-node page's snapshot ~100,000.
DEFAULT_MAX_ITEMS = 500_000


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int
    max_batch_bytes: int
    max_events_per_batch: int
    max_items: int = DEFAULT_MAX_ITEMS


def unpack_frame(data: bytes, limits: Limits) -> dict[str, Any]:
    if len(data) > limits.max_frame_bytes:
        raise TooLarge("frame too large", code="frame_too_large")
    try:
        value = decode_bounded(data, limits.max_items)
    except _MSGPACK_ERRORS as e:
        raise InvalidMessage(f"frame is not valid msgpack: {e}", code="bad_msgpack") from e
    if not isinstance(value, dict):
        raise InvalidMessage("frame must be a msgpack map")
    return value


def parse_message(raw: dict[str, Any], limits: Limits) -> Message:
    kind = raw.get("t")
    if kind == "hello":
        return parse_hello(raw)
    if kind == "batch":
        return parse_batch(raw, limits)
    if kind == "bye":
        return Bye()
    raise InvalidMessage(f"unknown message type {kind!r}")


def parse_hello(raw: dict[str, Any]) -> Hello:
    if raw.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise InvalidMessage(f"unsupported protocol version {raw.get('v')!r}")
    site = raw.get("site")
    if not isinstance(site, str) or not SITE_KEY_RE.match(site):
        raise InvalidMessage("hello.site must be a site key (pk_...)")
    return Hello(
        site=site,
        sid=_uuid(raw.get("sid"), "sid"),
        vid=_uuid(raw.get("vid"), "vid"),
        page=_int(raw.get("page"), "page", 0, MAX_PAGE),
        url=_url(raw.get("url"), "url", required=True),
        referrer=_url(raw.get("referrer", ""), "referrer", required=False),
        title=_str(raw.get("title", ""), "title", MAX_TITLE),
        viewport=_pair(raw.get("viewport"), "viewport"),
        screen=_pair(raw.get("screen"), "screen"),
        lang=_str(raw.get("lang", ""), "lang", MAX_SHORT),
        tz=_str(raw.get("tz", ""), "tz", MAX_SHORT),
        clock=_int(raw.get("clock"), "clock", 0, 2**53),
    )


def parse_batch(raw: dict[str, Any], limits: Limits) -> Batch:
    seq = _int(raw.get("seq"), "seq", 0, 2**53)
    page = _int(raw.get("page"), "page", 0, MAX_PAGE)
    raw_bytes = 0
    if "gz" in raw:
        events, raw_bytes = _inflate_events(raw["gz"], limits)
    else:
        events = raw.get("events")
    if not isinstance(events, list):
        raise InvalidMessage("batch.events must be an array")
    if len(events) > limits.max_events_per_batch:
        raise TooLarge(
            f"batch holds {len(events)} events, over {limits.max_events_per_batch}",
            code="batch_too_large",
        )
    return Batch(seq=seq, page=page, events=events, raw_bytes=raw_bytes)


def _inflate_events(blob: object, limits: Limits) -> tuple[object, int]:
    if not isinstance(blob, bytes):
        raise InvalidMessage("batch.gz must be binary")
    raw = gunzip_bounded(blob, limits.max_batch_bytes)
    try:
        return decode_bounded(raw, limits.max_items), len(raw)
    except _MSGPACK_ERRORS as e:
        raise InvalidMessage(f"batch.gz does not hold msgpack: {e}", code="bad_msgpack") from e


def gunzip_bounded(blob: bytes, max_bytes: int) -> bytes:
    """Inflate gzip data, refusing more than `max_bytes` of output, or more than
    MAX_INFLATE_RATIO times its size past the first MiB (gzip bombs): the work
    a frame costs grows with what its sender sends, which rate limits bound."""
    max_bytes = min(max_bytes, max(MIN_INFLATE_BYTES, MAX_INFLATE_RATIO * len(blob)))
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(blob, max_bytes + 1)
    except zlib.error as e:
        raise InvalidMessage(f"invalid gzip data: {e}", code="bad_gzip") from e
    if len(raw) > max_bytes or inflater.unconsumed_tail:
        raise TooLarge("batch too large once decompressed", code="batch_too_large")
    return raw


def decode_http_body(body: bytes, content_type: str, limits: Limits) -> dict[str, Any]:
    """POST /ingest/batch bodies: msgpack, or JSON (sendBeacon sends text/plain).
    Both are bounded like frames: at most `limits.max_items` items once decoded."""
    if content_type == "application/msgpack":
        try:
            value = decode_bounded(body, limits.max_items)
        except _MSGPACK_ERRORS as e:
            raise InvalidMessage(f"body is not valid msgpack: {e}", code="bad_msgpack") from e
    else:
        if body[:2] == b"\x1f\x8b":
            body = gunzip_bounded(body, limits.max_batch_bytes)
        value = _decode_json(body, limits.max_items)
    if not isinstance(value, dict):
        raise InvalidMessage("body must be a map")
    return value


def _decode_json(body: bytes, max_items: int) -> Any:
    """JSON has no decoder that counts as it builds. A container of n entries
    has n - 1 commas, so commas plus twice the brackets and braces bound the
    items (bounds.check_events' count) json.loads can build; strings holding
    those characters only make the bound stricter."""
    containers = body.count(b"[") + body.count(b"{")
    upper_bound = body.count(b",") + 2 * containers + 1
    if upper_bound > max_items:
        raise TooLarge(
            f"body may hold more than {max_items} values once decoded", code="batch_too_large"
        )
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise InvalidMessage(f"body is not valid JSON: {e}", code="bad_json") from e
    if has_json_surrogate_escape(body):
        value = repair_surrogates(value)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def pack(message: dict[str, Any]) -> bytes:
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return packed


def welcome(sid: str, acked: int, config: dict[str, Any]) -> dict[str, Any]:
    return {"t": "welcome", "sid": sid, "acked": acked, "config": config}


def ack(seq: int) -> dict[str, Any]:
    return {"t": "ack", "seq": seq}


def error(code: str, message: str) -> dict[str, Any]:
    return {"t": "error", "code": code, "message": message}


def _uuid(value: object, name: str) -> str:
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidMessage(f"hello.{name} must be a UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError as e:
        raise InvalidMessage(f"hello.{name} must be a UUID") from e


def _int(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidMessage(f"{name} must be an integer in [{low}, {high}]")
    return value


def _str(value: object, name: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise InvalidMessage(f"hello.{name} must be a string")
    return clean_text(value, max_len)  # stored: no lone surrogates, NULs or controls


def _url(value: object, name: str, *, required: bool) -> str:
    text = _str(value, name, MAX_URL)
    if not text and not required:
        return ""
    if not text.startswith(("http://", "https://")):
        raise InvalidMessage(f"hello.{name} must be an http(s) URL")
    return text


def _pair(value: object, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and 0 <= v <= MAX_DIMENSION for v in value)
    ):
        raise InvalidMessage(f"hello.{name} must be [width, height]")
    return int(value[0]), int(value[1])
