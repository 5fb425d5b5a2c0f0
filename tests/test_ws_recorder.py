from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgpack
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from replay_server import keys
from replay_server.chunks.format import decode_chunk
from replay_server.db.models import RecordedSession
from tests.conftest import BOTH_DATABASES
from tests.ingest_server import (
    BOTH_FRAME_PATHS,
    ORIGIN,
    IngestServer,
    Recorder,
    start_ingest_server,
)
from tests.rrweb_events import mouse_move, now_ms, page_events

# Every test here runs on SQLite and, where REPLAY_TEST_POSTGRES_URL is set, PostgreSQL.
pytestmark = BOTH_DATABASES


@BOTH_FRAME_PATHS
async def test_hello_batches_acks_and_readback(ingest: IngestServer, recorder: Recorder) -> None:
    welcome = await recorder.connect()
    assert welcome["t"] == "welcome" and welcome["acked"] == -1 and welcome["sid"] == recorder.sid
    assert welcome["config"]["record"] is True and welcome["config"]["maskAllInputs"] is True
    t = now_ms()
    await recorder.batch(0, page_events(t, items=2))
    assert await recorder.recv() == {"t": "ack", "seq": 0}
    await recorder.send(
        {
            "t": "batch",
            "seq": 1,
            "page": 0,
            "gz": gzip.compress(msgpack.packb([mouse_move(t + 500)])),
        }
    )
    assert await recorder.recv() == {"t": "ack", "seq": 1}
    events = await ingest.events(recorder.sid)  # still in the spool: readable already
    assert [e["type"] for e in events] == [4, 2, 3, 3, 3]


@BOTH_FRAME_PATHS
async def test_resend_after_drop_is_stored_exactly_once(
    ingest: IngestServer, recorder: Recorder
) -> None:
    await recorder.connect()
    t = now_ms()
    batches = [page_events(t, items=1)] + [[mouse_move(t + 100 * i, x=i)] for i in range(1, 10)]
    for seq, events in enumerate(batches):
        await recorder.batch(seq, events)
    last_seen = -1
    for _ in range(7):  # drop the connection before reading the last acks
        last_seen = (await recorder.recv())["seq"]
    await recorder.close()

    welcome = await recorder.connect()
    assert welcome["acked"] >= last_seen
    # Resend all the client never saw acked; some of it is durable already.
    for seq in range(last_seen + 1, 10):
        await recorder.batch(seq, batches[seq])
        assert await recorder.recv() == {"t": "ack", "seq": max(seq, welcome["acked"])}
    await recorder.close()
    events = await ingest.events(recorder.sid)
    xs = [
        e["data"]["positions"][0]["x"]
        for e in events
        if e["type"] == 3 and e["data"]["source"] == 1
    ]
    assert xs == list(range(1, 10))


async def test_reconnect_later_continues_session_in_chunks(
    tmp_path: Path,
    aiohttp_server,
    ingest: IngestServer,
    recorder: Recorder,  # type: ignore[no-untyped-def]
) -> None:
    await recorder.connect()
    t = now_ms()
    await recorder.batch(0, page_events(t, items=3))
    await recorder.recv()
    await recorder.close()
    ingestor = ingest.app[keys.INGESTOR]
    state = ingestor.sessions[recorder.sid]
    await ingestor.cut(state)  # what a disconnect schedules
    async with ingest.app[keys.DB]() as db:
        from sqlalchemy import select

        from replay_server.db.models import Chunk, RecordedSession

        chunks = list(await db.scalars(select(Chunk).where(Chunk.session_id == recorder.sid)))
        session = await db.get(RecordedSession, recorder.sid)
    assert len(chunks) == 1 and chunks[0].has_full_snapshot and chunks[0].event_count == 5
    assert session is not None and session.chunked_seq == 0 and session.page_count == 1
    blob = await ingest.app[keys.BLOBS].get(chunks[0].blob_key)
    assert len(decode_chunk(blob)) == 5

    recorder.page = 1
    welcome = await recorder.connect()
    assert welcome["acked"] == 0
    await recorder.batch(1, page_events(t + 5000, items=1, href=f"{ORIGIN}/page1"))
    assert (await recorder.recv())["seq"] == 1
    await recorder.close()
    events = await ingest.events(recorder.sid)
    assert [e["type"] for e in events].count(2) == 2


async def test_acked_batches_survive_an_unclean_stop(
    tmp_path: Path,
    aiohttp_server,  # type: ignore[no-untyped-def]
    database_url: str,
) -> None:
    """Acked data only in the spool (no chunk yet) is recovered by the next start."""
    data_dir = tmp_path / "data"
    first = await start_ingest_server(
        data_dir, aiohttp_server, chunk_max_age_seconds=3600.0, database_url=database_url
    )
    rec = Recorder(first.ws_url, first.site_key)
    await rec.connect()
    t = now_ms()
    for seq in range(5):
        await rec.batch(
            seq, page_events(t + seq * 1000, items=1) if seq == 0 else [mouse_move(t + seq * 1000)]
        )
        assert (await rec.recv())["seq"] == seq
    # Simulate a crash: forget the in-memory state so shutdown cannot chunk it.
    ingestor = first.app[keys.INGESTOR]
    ingestor.sessions.clear()
    await rec.close()
    await first.server.close()
    assert list((data_dir / "spool").glob("*.spool"))

    second = await start_ingest_server(data_dir, aiohttp_server, database_url=database_url)
    events = (
        await second.app[keys.READER].read_session(session_id=rec.sid, site_id=first.site_id)
    ).events
    assert [e["timestamp"] for e in events if e["type"] == 3 and e["data"]["source"] == 1] == [
        t + seq * 1000 for seq in range(1, 5)
    ]
    rec2 = Recorder(second.ws_url, first.site_key, sid=rec.sid, vid=rec.vid)
    assert (await rec2.connect())["acked"] == 4
    await rec2.close()


@pytest.mark.parametrize(
    ("origin", "changes", "close_code", "error_code"),
    [
        ("http://evil.test", {}, 4403, "origin_not_allowed"),
        (ORIGIN, {"site": "pk_unknownunknownunknown"}, 4401, "unknown_site"),
        (ORIGIN, {"sid": "nope"}, 4400, "invalid_message"),
    ],
)
async def test_hello_refusals(
    ingest: IngestServer,
    origin: str,
    changes: dict[str, object],
    close_code: int,
    error_code: str,
) -> None:
    rec = Recorder(ingest.ws_url, ingest.site_key, origin=origin)
    reply = await rec.connect(**changes)
    assert reply["t"] == "error" and reply["code"] == error_code
    with pytest.raises(ConnectionClosed) as closed:
        await rec.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code


@BOTH_FRAME_PATHS
async def test_batch_before_hello_and_text_frames(ingest: IngestServer) -> None:
    from websockets.asyncio.client import connect

    for frame, code in [
        (msgpack.packb({"t": "batch", "seq": 0, "page": 0, "events": []}), "hello_required"),
        ('{"t": "hello"}', "invalid_message"),
        (b"\xc1\xc1", "bad_msgpack"),
    ]:
        async with connect(ingest.ws_url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
            await ws.send(frame)
            reply = msgpack.unpackb(await ws.recv())
            assert reply["code"] == code
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_session_of_another_site_is_refused(
    ingest: IngestServer, recorder: Recorder, tmp_path: Path
) -> None:
    await recorder.connect()
    await recorder.close()
    async with ingest.app[keys.DB]() as db, db.begin():
        from replay_server.db.models import Site

        other = Site(
            org_id=1,
            name="Other",
            public_key="pk_" + "o" * 30,
            allowed_origins=[ORIGIN],
            settings={},
            created_ms=0,
        )
        db.add(other)
    thief = Recorder(ingest.ws_url, "pk_" + "o" * 30, sid=recorder.sid)
    reply = await thief.connect()
    assert reply["code"] == "session_site_mismatch"


@pytest.mark.parametrize("ingest_workers", [0, 1], ids=["in-process", "frame-worker"])
async def test_a_frame_over_the_limit_is_refused_and_keeps_what_was_acked(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
    ingest_workers: int,
) -> None:
    server = await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        ingest_workers=ingest_workers,
        max_frame_bytes=64 * 1024,
    )
    rec = Recorder(server.ws_url, server.site_key)
    await rec.connect()
    t = now_ms()
    await rec.batch(0, page_events(t))
    assert await rec.recv() == {"t": "ack", "seq": 0}
    await rec.batch(1, [mouse_move(t + 1)] * 2000)  # ~100 KB
    reply = await rec.recv()
    assert (reply["t"], reply["code"]) == ("error", "frame_too_large")
    with pytest.raises(ConnectionClosed) as closed:
        await rec.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4413
    assert len(await server.events(rec.sid)) == len(page_events(t))


@BOTH_FRAME_PATHS
async def test_invalid_batch_keeps_what_was_acked(ingest: IngestServer, recorder: Recorder) -> None:
    await recorder.connect()
    t = now_ms()
    await recorder.batch(0, page_events(t))
    await recorder.recv()
    await recorder.batch(1, [{"type": 99, "timestamp": t}])
    reply = await recorder.recv()
    assert reply["code"] == "invalid_event"
    events = await ingest.events(recorder.sid)
    assert len(events) == len(page_events(t))


async def test_shutdown_closes_recorders_with_1012_and_chunks_pending(
    tmp_path: Path,
    aiohttp_server,  # type: ignore[no-untyped-def]
    database_url: str,
) -> None:
    server = await start_ingest_server(
        tmp_path / "d", aiohttp_server, chunk_max_age_seconds=3600.0, database_url=database_url
    )
    rec = Recorder(server.ws_url, server.site_key)
    await rec.connect()
    await rec.batch(0, page_events(now_ms()))
    await rec.recv()
    await server.server.close()
    with pytest.raises(ConnectionClosed) as closed:
        await rec.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    chunk_files = list((tmp_path / "d" / "blobs").rglob("*.rsc"))
    assert len(chunk_files) == 1


async def test_bye_then_idle_finishes_the_session_and_a_return_continues_it(
    tmp_path: Path,
    aiohttp_server,  # type: ignore[no-untyped-def]
    database_url: str,
) -> None:
    from replay_server.db.models import RecordedSession

    server = await start_ingest_server(
        tmp_path / "d", aiohttp_server, session_bye_idle_seconds=0.5, database_url=database_url
    )
    rec = Recorder(server.ws_url, server.site_key)
    await rec.connect()
    await rec.batch(0, page_events(now_ms()))
    await rec.recv()
    await rec.send({"t": "bye"})
    await rec.close()

    async def ended() -> int | None:
        async with server.app[keys.DB]() as db:
            session = await db.get(RecordedSession, rec.sid)
            return session.ended_ms if session is not None else None

    for _ in range(40):
        if await ended() is not None:
            break
        await asyncio.sleep(0.1)
    assert await ended() is not None
    assert rec.sid not in server.app[keys.INGESTOR].sessions
    assert len(await server.events(rec.sid)) == len(page_events(0))

    rec.page = 1  # the visitor comes back to the same tab: same session
    assert (await rec.connect())["acked"] == 0
    assert await ended() is None
    await rec.close()


async def test_a_storm_of_hellos_is_welcomed_and_every_session_stored(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], database_url: str
) -> None:
    # Every recorder here shares 127.0.0.1: no per-IP limit.
    ingest = await start_ingest_server(
        tmp_path / "data", aiohttp_server, database_url=database_url, rate_per_ip=0.0
    )
    recorders = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(400)]
    welcomes = await asyncio.gather(*(r.connect() for r in recorders))
    assert all(w["t"] == "welcome" and w["acked"] == -1 for w in welcomes)
    t = now_ms()
    await asyncio.gather(*(r.batch(0, page_events(t, items=1)) for r in recorders))
    acks = await asyncio.gather(*(r.recv() for r in recorders))
    assert all(a == {"t": "ack", "seq": 0} for a in acks)
    await asyncio.gather(*(r.close() for r in recorders))
    async with ingest.app[keys.DB]() as db:
        stored = set(await db.scalars(select(RecordedSession.id)))
    assert stored == {r.sid for r in recorders}
