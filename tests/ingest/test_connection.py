"""One recorder connection (ingest/connection.py), driven frame by frame on a
running app: hello first, then batches acked and readable, one hello per
connection, the site's origins only, and a batch of a later page refused."""

from __future__ import annotations

import msgpack
import pytest

from replay_server import keys
from replay_server.errors import Forbidden, InvalidMessage
from replay_server.ingest.connection import RecorderConnection
from replay_server.protocol import Limits
from tests.ingest_server import ORIGIN, IngestServer, Recorder
from tests.rrweb_events import mouse_move, now_ms, page_events


def connection(ingest: IngestServer, origin: str = ORIGIN) -> RecorderConnection:
    app, s = ingest.app, ingest.settings
    return RecorderConnection(
        sites=app[keys.SITES],
        ingestor=app[keys.INGESTOR],
        limits=Limits(s.max_frame_bytes, s.max_batch_bytes, s.max_events_per_batch),
        origin=origin,
        user_agent="Mozilla/5.0 Firefox/140.0",
        client_ip="192.0.2.7",
        countries=app[keys.COUNTRIES],
        rate_limits=app[keys.RATE_LIMITS],
    )


def batch(seq: int, events: list[dict[str, object]], page: int = 0) -> bytes:
    return msgpack.packb({"t": "batch", "seq": seq, "page": page, "events": events})


async def test_hello_then_batches_are_acked_and_stored(
    ingest: IngestServer, recorder: Recorder
) -> None:
    conn = connection(ingest)
    try:
        [welcome] = await conn.handle_frame(msgpack.packb(recorder.hello()))
        assert (welcome["t"], welcome["sid"], welcome["acked"]) == ("welcome", recorder.sid, -1)
        t0 = now_ms()
        assert await conn.handle_frame(batch(0, page_events(t0))) == [{"t": "ack", "seq": 0}]
        assert await conn.handle_frame(batch(1, [mouse_move(t0 + 5)])) == [{"t": "ack", "seq": 1}]
        with pytest.raises(InvalidMessage, match="already sent"):
            await conn.handle_frame(msgpack.packb(recorder.hello()))
        with pytest.raises(InvalidMessage):
            await conn.handle_frame(batch(2, [mouse_move(t0 + 9)], page=1))
    finally:
        await conn.close()
    events = await ingest.events(recorder.sid)
    assert mouse_move(t0 + 5) in events and len(events) == len(page_events(t0)) + 1


async def test_only_a_hello_comes_first(ingest: IngestServer) -> None:
    conn = connection(ingest)
    with pytest.raises(InvalidMessage) as refused:
        await conn.handle_frame(batch(0, [mouse_move(now_ms())]))
    assert refused.value.code == "hello_required"
    assert conn.state is None


async def test_a_foreign_origin_is_refused(ingest: IngestServer, recorder: Recorder) -> None:
    conn = connection(ingest, origin="https://elsewhere.test")
    with pytest.raises(Forbidden) as refused:
        await conn.handle_frame(msgpack.packb(recorder.hello()))
    assert refused.value.code == "origin_not_allowed"
    assert conn.state is None
