"""Preparing frames as a frame worker does (frame_prep), and the pipe format
between server and worker (frame_wire), in-process."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay_server.errors import InvalidMessage, ReplayError, TooLarge
from replay_server.ingest.prep.preparer import FrameContext, FramePreparer, PreparedBatch
from replay_server.ingest.prep.wire import (
    Forget,
    MessageReader,
    Prepare,
    Split,
    WireError,
    failure_message,
    forget_request,
    prepare_request,
    read_reply,
    read_request,
    reply_message,
    split_request,
)
from replay_server.privacy.masking import MaskPolicy
from replay_server.protocol import Batch, Limits
from replay_server.snapshot import BatchSummary, EventLimits
from replay_server.spool.records import (
    SpoolEntry,
    decode_spool_payload,
    encode_spool_payload,
    encode_spool_payload_of_packed,
)
from tests.rrweb_events import mouse_move, now_ms, page_events

SID = "5b0c5a52-3f4e-4a43-9d6b-1c1f6f0b8a11"
TYPED = "jane@example.com"
LIMITS = Limits(4 * 1024 * 1024, 16 * 1024 * 1024, 10_000)


def preparer(max_sessions: int = 1000) -> FramePreparer:
    return FramePreparer(LIMITS, EventLimits(), 300_000, max_sessions)


def context(acked: int = -1, sid: str | None = SID, **policy: bool) -> FrameContext:
    return FrameContext(sid, acked, 0, 0, MaskPolicy(**policy))


def batch_frame(seq: int, events: list[dict[str, Any]], page: int = 0) -> bytes:
    frame: bytes = msgpack.packb({"t": "batch", "seq": seq, "page": page, "events": events})
    return frame


def form_page(ts: int) -> list[dict[str, Any]]:
    """A page with an email field (id 5) holding what the visitor typed."""
    field = {
        "type": 2,
        "id": 5,
        "tagName": "input",
        "attributes": {"type": "email", "value": TYPED},
        "childNodes": [],
    }
    body = {"type": 2, "id": 4, "tagName": "body", "attributes": {}, "childNodes": [field]}
    html = {"type": 2, "id": 3, "tagName": "html", "attributes": {}, "childNodes": [body]}
    return [
        {
            "type": 4,
            "timestamp": ts,
            "data": {"href": "http://client.test/", "width": 1, "height": 1},
        },
        {
            "type": 2,
            "timestamp": ts + 1,
            "data": {
                "node": {"type": 0, "id": 1, "childNodes": [html]},
                "initialOffset": {"top": 0, "left": 0},
            },
        },
    ]


def typing(ts: int, node_id: int = 5) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 5, "id": node_id, "text": TYPED}}


def test_hello_and_bye_are_left_to_the_connection() -> None:
    prep = preparer()
    hello = {
        "t": "hello",
        "site": "pk_" + "a" * 20,
        "sid": SID,
        "vid": SID,
        "page": 0,
        "url": "http://client.test/",
        "clock": now_ms(),
    }
    assert prep.prepare(msgpack.packb(hello), context(sid=None)) is None
    assert prep.prepare(msgpack.packb({"t": "bye"}), context()) is None
    with pytest.raises(InvalidMessage):  # checked here as in the connection
        prep.prepare(msgpack.packb({**hello, "sid": "nope"}), context(sid=None))


@pytest.mark.parametrize(
    ("frame", "error", "code"),
    [
        (b"\xc1", InvalidMessage, "bad_msgpack"),
        (msgpack.packb([1, 2]), InvalidMessage, "invalid_message"),
        (msgpack.packb({"t": "nope"}), InvalidMessage, "invalid_message"),
        (
            msgpack.packb({"t": "batch", "seq": -1, "page": 0, "events": []}),
            InvalidMessage,
            "invalid_message",
        ),
        (
            msgpack.packb({"t": "batch", "seq": 0, "page": 0, "events": [{}] * 10_001}),
            TooLarge,
            "batch_too_large",
        ),
    ],
)
def test_frames_that_are_no_message_are_refused(
    frame: bytes, error: type[ReplayError], code: str
) -> None:
    with pytest.raises(error) as caught:
        preparer().prepare(frame, context())
    assert caught.value.code == code


def test_a_batch_is_validated_and_summarised() -> None:
    t0 = now_ms()
    frame = batch_frame(0, page_events(t0, items=2))
    prepared = preparer().prepare(frame, context())
    summary = BatchSummary(4, t0, t0 + 200, True, raw_bytes=len(frame))
    assert prepared == PreparedBatch(0, 0, summary, None, 0, None)


def test_events_are_not_looked_at_without_a_session_or_for_a_resend() -> None:
    prep = preparer()
    bad = batch_frame(3, [{"type": 99}])
    assert prep.prepare(bad, context(sid=None)) == PreparedBatch(3, 0)
    assert prep.prepare(bad, context(acked=3)) == PreparedBatch(3, 0)  # a resend
    assert prep.prepare(batch_frame(3, [{"type": 99}], page=1), context()) == PreparedBatch(3, 1)
    assert prep.session_count() == 0


def test_invalid_events_are_handed_back_not_raised() -> None:
    prepared = preparer().prepare(batch_frame(0, [{"type": 99, "timestamp": 1}]), context())
    assert prepared is not None and prepared.summary is None
    assert isinstance(prepared.problem, InvalidMessage)
    assert prepared.problem.code == "invalid_event"


def test_masking_remembers_a_sessions_fields_across_frames() -> None:
    prep, t0 = preparer(), now_ms()
    first = prep.prepare(batch_frame(0, form_page(t0)), context())
    assert first is not None and first.masked == 1 and first.events is not None
    masked_page = msgpack.unpackb(first.events)
    assert TYPED not in repr(masked_page) and "*" * len(TYPED) in repr(masked_page)

    # The field is known from the snapshot: with inputs unmasked it stays clear...
    loose = prep.prepare(batch_frame(1, [typing(t0 + 5)]), context(acked=0, mask_inputs=False))
    assert loose is not None and (loose.masked, loose.events) == (0, None)
    # ... while a node never seen in a snapshot is masked, since it could be anything.
    prep.forget(SID)
    unknown = prep.prepare(batch_frame(2, [typing(t0 + 6)]), context(acked=1, mask_inputs=False))
    assert unknown is not None and unknown.masked == 1


def test_a_batch_without_its_frame_comes_back_packed_even_unmasked() -> None:
    events = [mouse_move(now_ms())]
    batch = Batch(seq=0, page=0, events=events)
    prepared = preparer().prepare_batch(batch, context())
    assert prepared.masked == 0 and prepared.events is not None
    assert msgpack.unpackb(prepared.events) == events


def test_masking_state_of_the_least_recent_sessions_is_dropped() -> None:
    prep = preparer(max_sessions=2)
    for n in range(3):
        prep.prepare(batch_frame(0, [mouse_move(now_ms())]), context(sid=f"{n:036d}"))
    assert prep.session_count() == 2


def test_packed_events_make_the_same_spool_record() -> None:
    events = page_events(now_ms())
    packed = encode_spool_payload_of_packed(7, SID, 3, 1, msgpack.packb(events))
    assert packed == encode_spool_payload(SpoolEntry(7, SID, 3, 1, events))
    assert decode_spool_payload(packed) == SpoolEntry(7, SID, 3, 1, events)


REPLIES: list[PreparedBatch | ReplayError | None] = [
    None,
    PreparedBatch(4, 1),
    PreparedBatch(5, 0, BatchSummary(2, 10, 20, False), None, 3, b"\x90"),
    PreparedBatch(6, 0, problem=InvalidMessage("event 0: nope", code="invalid_event")),
    TooLarge("frame too large", code="frame_too_large"),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_replies_cross_the_pipe_intact(reply: PreparedBatch | ReplayError | None) -> None:
    [body] = MessageReader().feed(reply_message(42, reply))
    request_id, back = read_reply(body)
    assert request_id == 42
    if isinstance(reply, ReplayError):
        assert type(back) is type(reply)
        assert isinstance(back, ReplayError)
        assert (back.code, back.message) == (reply.code, reply.message)
    elif isinstance(reply, PreparedBatch) and reply.problem is not None:
        assert isinstance(back, PreparedBatch) and isinstance(back.problem, InvalidMessage)
        assert back.problem.code == reply.problem.code
        assert back.problem.message == reply.problem.message
    else:
        assert back == reply


def test_requests_cross_the_pipe_intact() -> None:
    ctx = FrameContext(SID, 9, 2, -1500, MaskPolicy(False, True))
    reader = MessageReader()
    stream = (
        prepare_request(1, b"frame", ctx)
        + forget_request(SID)
        + split_request(2, b"{}", "text/plain")
    )
    bodies = [body for byte in stream for body in reader.feed(bytes([byte]))]
    assert [read_request(b) for b in bodies] == [
        Prepare(1, b"frame", ctx),
        Forget(SID),
        Split(2, b"{}", "text/plain"),
    ]


def test_a_worker_failure_and_an_unknown_reply_are_told_apart() -> None:
    [body] = MessageReader().feed(failure_message(3, "KeyError: 'x'"))
    assert read_reply(body) == (3, "KeyError: 'x'")
    with pytest.raises(WireError):
        read_reply(msgpack.packb([1, 99]))


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(1, 64))
def test_the_reader_splits_any_stream_into_its_messages(bodies: list[bytes], chunk: int) -> None:
    stream = b"".join(len(b).to_bytes(4, "big") + b for b in bodies)
    reader = MessageReader()
    read = [
        body for i in range(0, len(stream), chunk) for body in reader.feed(stream[i : i + chunk])
    ]
    assert read == bodies
