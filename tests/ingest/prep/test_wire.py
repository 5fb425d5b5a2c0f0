"""The pipe format between the server and its frame workers: every request and
reply reads back as it was written, errors keep their type, code and message,
and a byte stream cut anywhere splits into the same messages."""

from __future__ import annotations

import ormsgpack
import pytest

from replay_server.errors import Forbidden, InvalidMessage, RateLimited, ReplayError, TooLarge
from replay_server.ingest.prep.http_body import HttpFrames
from replay_server.ingest.prep.preparer import FrameContext, PreparedBatch
from replay_server.ingest.prep.wire import (
    Forget,
    MessageReader,
    Prepare,
    Split,
    WireError,
    failure_message,
    forget_request,
    framed,
    prepare_request,
    read_reply,
    read_request,
    reply_message,
    split_request,
)
from replay_server.privacy.masking import MaskPolicy
from replay_server.snapshot import BatchSummary

CONTEXT = FrameContext("sid-1", 41, 2, -1500, MaskPolicy(mask_inputs=True, mask_text=False))


def body(message: bytes) -> bytes:
    """The body of one framed message (and a check of its length prefix)."""
    assert int.from_bytes(message[:4], "big") == len(message) - 4
    return message[4:]


def test_requests_read_back() -> None:
    assert read_request(body(prepare_request(7, b"frame", CONTEXT))) == Prepare(
        7, b"frame", CONTEXT
    )
    no_session = FrameContext(None, 0, 0, 0, MaskPolicy(mask_inputs=False, mask_text=True))
    request = read_request(body(prepare_request(8, b"f", no_session)))
    assert isinstance(request, Prepare) and request.context == no_session
    assert read_request(body(split_request(9, b"{}", "application/json"))) == Split(
        9, b"{}", "application/json"
    )
    assert read_request(body(forget_request("sid-1"))) == Forget("sid-1")
    with pytest.raises(WireError, match="unknown request 99"):
        read_request(ormsgpack.packb([99, 1]))


def test_a_prepared_batch_reads_back() -> None:
    batch = PreparedBatch(
        seq=5,
        page=2,
        summary=BatchSummary(3, 1000, 2000, True, 456),
        problem=None,
        masked=4,
        events=b"\x93\x01\x02\x03",
    )
    assert read_reply(body(reply_message(11, batch))) == (11, batch)
    bare = PreparedBatch(seq=6, page=0)
    assert read_reply(body(reply_message(12, bare))) == (12, bare)


@pytest.mark.parametrize(
    "error",
    [
        InvalidMessage("bad batch", code="invalid_events"),
        TooLarge("too many events"),
        Forbidden("not allowed"),
        RateLimited("slow down"),
        ReplayError("something else", code="odd"),
    ],
)
def test_errors_keep_type_code_and_message(error: ReplayError) -> None:
    request_id, refused = read_reply(body(reply_message(3, error)))
    assert request_id == 3
    assert type(refused) is type(error)
    assert isinstance(refused, ReplayError)
    assert (refused.code, refused.message) == (error.code, error.message)

    _, batch = read_reply(body(reply_message(4, PreparedBatch(seq=1, page=0, problem=error))))
    assert isinstance(batch, PreparedBatch) and batch.problem is not None
    assert type(batch.problem) is type(error)
    assert (batch.problem.code, batch.problem.message) == (error.code, error.message)


def test_other_replies_read_back() -> None:
    assert read_reply(body(reply_message(1, None))) == (1, None)
    frames = HttpFrames(b"hello", [b"batch1", b"batch2"])
    assert read_reply(body(reply_message(2, frames))) == (2, frames)
    assert read_reply(body(failure_message(3, "KeyError: 'x'"))) == (3, "KeyError: 'x'")
    with pytest.raises(WireError, match="unknown reply kind 42"):
        read_reply(ormsgpack.packb([1, 42]))


def test_a_stream_cut_anywhere_splits_into_the_same_messages() -> None:
    bodies = [b"", b"a", b"x" * 70_000, bytes(range(256))]
    stream = b"".join(framed(b) for b in bodies)
    for step in (1, 3, 4, 5, 1000, len(stream)):
        reader = MessageReader()
        got: list[bytes] = []
        for start in range(0, len(stream), step):
            got += reader.feed(stream[start : start + step])
        assert got == bodies, step
    reader = MessageReader()
    assert reader.feed(framed(b"abc")[:-1]) == []  # unfinished: held
    assert reader.feed(b"c" + framed(b"d")) == [b"abc", b"d"]
