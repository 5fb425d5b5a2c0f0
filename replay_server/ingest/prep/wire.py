"""The pipe format between the server and its frame workers.

Each message is a 4-byte big-endian length and a msgpack array. Requests:
`[PREPARE, id, frame, sid, acked_seq, hello_page, clock_offset_ms,
mask_inputs, mask_text, url_params_allow, url_params_deny]`,
`[SPLIT, id, http body, content type]` and `[FORGET, sid]`. Replies:
`[id, kind, ...]`, one per PREPARE or SPLIT, in any order (the id matches
them up).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import ormsgpack

from replay_server.errors import Forbidden, InvalidMessage, RateLimited, ReplayError, TooLarge
from replay_server.ingest.prep.http_body import HttpFrames
from replay_server.ingest.prep.preparer import FrameContext, PreparedBatch
from replay_server.privacy.masking import MaskPolicy
from replay_server.privacy.urls import UrlPolicy
from replay_server.snapshot import BatchSummary

PREPARE = 1
FORGET = 2
SPLIT = 3

BATCH = 1  # a prepared batch
OTHER = 2  # hello or bye: the connection parses it
REFUSED = 3  # a ReplayError: the frame is not a valid message
FAILED = 4  # the worker itself failed on this frame (a bug): text of the error
FRAMES = 5  # an HTTP body split into frames

_HEADER = struct.Struct(">I")
_ERRORS: dict[str, type[ReplayError]] = {
    cls.__name__: cls for cls in (ReplayError, InvalidMessage, TooLarge, Forbidden, RateLimited)
}

Reply = PreparedBatch | HttpFrames | ReplayError | None


@dataclass(frozen=True)
class Prepare:
    request_id: int
    frame: bytes
    context: FrameContext


@dataclass(frozen=True)
class Split:
    request_id: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Forget:
    sid: str


Request = Prepare | Split | Forget


class WireError(Exception):
    """The other side sent something that is not this format (a bug)."""


def framed(body: bytes) -> bytes:
    return _HEADER.pack(len(body)) + body


def prepare_request(request_id: int, frame: bytes, context: FrameContext) -> bytes:
    return framed(
        ormsgpack.packb(
            [
                PREPARE,
                request_id,
                frame,
                context.sid,
                context.acked_seq,
                context.hello_page,
                context.clock_offset_ms,
                context.masking.mask_inputs,
                context.masking.mask_text,
                sorted(context.urls.allow),
                sorted(context.urls.deny),
            ]
        )
    )


def split_request(request_id: int, body: bytes, content_type: str) -> bytes:
    return framed(ormsgpack.packb([SPLIT, request_id, body, content_type]))


def forget_request(sid: str) -> bytes:
    return framed(ormsgpack.packb([FORGET, sid]))


def read_request(body: bytes) -> Request:
    value = ormsgpack.unpackb(body)
    op = value[0]
    if op == FORGET:
        return Forget(value[1])
    if op == SPLIT:
        return Split(value[1], value[2], value[3])
    if op != PREPARE:
        raise WireError(f"unknown request {op!r}")
    _, request_id, frame, sid, acked, page, offset, inputs, text, allow, deny = value
    urls = UrlPolicy(frozenset(allow), frozenset(deny))
    context = FrameContext(sid, acked, page, offset, MaskPolicy(inputs, text), urls)
    return Prepare(request_id, frame, context)


def reply_message(request_id: int, reply: Reply) -> bytes:
    body: list[Any]
    if reply is None:
        body = [request_id, OTHER]
    elif isinstance(reply, ReplayError):
        body = [request_id, REFUSED, *_error_fields(reply)]
    elif isinstance(reply, HttpFrames):
        body = [request_id, FRAMES, reply.hello, reply.batches]
    else:
        summary = reply.summary
        body = [
            request_id,
            BATCH,
            reply.seq,
            reply.page,
            None
            if summary is None
            else [
                summary.event_count,
                summary.first_ts,
                summary.last_ts,
                summary.has_full_snapshot,
                summary.raw_bytes,
            ],
            None if reply.problem is None else _error_fields(reply.problem),
            reply.masked,
            reply.events,
        ]
    return framed(ormsgpack.packb(body))


def failure_message(request_id: int, text: str) -> bytes:
    return framed(ormsgpack.packb([request_id, FAILED, text]))


def read_reply(body: bytes) -> tuple[int, Reply | str]:
    """(request id, reply); a str is the text of a worker failure."""
    value = ormsgpack.unpackb(body)
    request_id, kind = value[0], value[1]
    if kind == BATCH:
        _, _, seq, page, summary, problem, masked, events = value
        return request_id, PreparedBatch(
            seq,
            page,
            None if summary is None else BatchSummary(*summary),
            None if problem is None else _error(problem),
            masked,
            events,
        )
    if kind == OTHER:
        return request_id, None
    if kind == FRAMES:
        return request_id, HttpFrames(value[2], value[3])
    if kind == REFUSED:
        return request_id, _error(value[2:])
    if kind == FAILED:
        return request_id, str(value[2])
    raise WireError(f"unknown reply kind {kind!r}")


def _error_fields(error: ReplayError) -> list[str]:
    return [type(error).__name__, error.code, error.message]


def _error(fields: list[str]) -> ReplayError:
    name, code, message = fields
    return _ERRORS.get(name, ReplayError)(message, code=code)


class MessageReader:
    """Splits a byte stream into the bodies of its length-prefixed messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        bodies: list[bytes] = []
        start, end = 0, len(buffer)
        while end - start >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer, start)
            stop = start + _HEADER.size + length
            if stop > end:
                break
            bodies.append(bytes(buffer[start + _HEADER.size : stop]))
            start = stop
        if start:
            del buffer[:start]
        return bodies
