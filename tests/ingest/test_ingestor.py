"""The ingestor (ingest/ingestor.py) on a running app, driven directly: a
session opened, batches accepted once (a resend is acked, not stored again),
readable from the spool, then cut into chunks and still readable; a seq far
ahead is refused."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from sqlalchemy import select

from replay_server import keys
from replay_server.db.models import Chunk
from replay_server.errors import InvalidMessage
from replay_server.ingest.ingestor import Ingestor
from replay_server.ingest.prep.preparer import FrameContext
from replay_server.ingest.state import SessionState
from replay_server.privacy.masking import MaskPolicy
from replay_server.protocol import Hello, Limits, parse_message
from tests.ingest_server import IngestServer, Recorder
from tests.rrweb_events import mouse_move, now_ms, page_events


def hello_of(ingest: IngestServer, recorder: Recorder) -> Hello:
    s = ingest.settings
    limits = Limits(s.max_frame_bytes, s.max_batch_bytes, s.max_events_per_batch)
    message = parse_message(recorder.hello(), limits)
    assert isinstance(message, Hello)
    return message


async def send(
    ingestor: Ingestor, state: SessionState, seq: int, events: list[dict[str, Any]]
) -> int:
    frame = msgpack.packb({"t": "batch", "seq": seq, "page": 0, "events": events})
    context = FrameContext(state.sid, state.acked_seq, 0, 0, MaskPolicy())
    prepared = await ingestor.prepare_frame(frame, context)
    assert prepared is not None
    return await ingestor.accept(state, prepared, frame)


async def test_batches_are_kept_once_then_cut_into_chunks(
    ingest: IngestServer, recorder: Recorder
) -> None:
    ingestor = ingest.app[keys.INGESTOR]
    state = await ingestor.open(ingest.site_id, hello_of(ingest, recorder), "Mozilla/5.0")
    assert state.acked_seq == -1 and state.connections == 1
    t0 = now_ms()
    assert await send(ingestor, state, 0, page_events(t0)) == 0
    assert await send(ingestor, state, 1, [mouse_move(t0 + 5)]) == 1
    assert await send(ingestor, state, 1, [mouse_move(t0 + 6)]) == 1  # a resend: acked again
    assert [p.seq for p in state.pending] == [0, 1]
    spooled = await ingest.events(recorder.sid)
    assert mouse_move(t0 + 5) in spooled and mouse_move(t0 + 6) not in spooled

    await ingestor.cut(state)
    assert state.pending == []
    async with ingest.app[keys.DB]() as db:
        rows = list(await db.scalars(select(Chunk).where(Chunk.session_id == recorder.sid)))
    assert [(c.first_seq, c.last_seq) for c in rows] == [(0, 1)]
    assert await ingest.events(recorder.sid) == spooled


async def test_a_seq_far_ahead_is_refused(ingest: IngestServer, recorder: Recorder) -> None:
    ingestor = ingest.app[keys.INGESTOR]
    state = await ingestor.open(ingest.site_id, hello_of(ingest, recorder), "Mozilla/5.0")
    jump = ingest.settings.max_seq_jump + 1
    with pytest.raises(InvalidMessage, match="jumps too far"):
        await send(ingestor, state, jump, [mouse_move(now_ms())])
    assert state.acked_seq == -1 and state.pending == []


async def test_a_second_connection_continues_the_session(
    ingest: IngestServer, recorder: Recorder
) -> None:
    ingestor = ingest.app[keys.INGESTOR]
    hello = hello_of(ingest, recorder)
    first = await ingestor.open(ingest.site_id, hello, "Mozilla/5.0")
    await send(ingestor, first, 0, page_events(now_ms()))
    second = await ingestor.open(ingest.site_id, hello, "Mozilla/5.0")
    assert second is first and second.connections == 2 and second.acked_seq == 0
    await ingestor.disconnected(first)
    assert second.connections == 1 and [p.seq for p in second.pending] == [0]
