"""Records no stage may choke on (issue 13, item 1).

A deep page used to be validated and acked, then failed every chunk cut (the
encoder's nesting limit): its bytes never left the pending total, acks
stopped for every recorder of the node, and the next start failed in
recovery. Now the edge refuses only what no stage could carry, and a record
that still cannot be chunked is quarantined instead of retried forever."""

from __future__ import annotations

import json
import signal
import struct
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed

from replay_server import keys
from replay_server.spool.records import PendingBatch, SpoolEntry, encode_spool_payload
from tests.ingest_server import ORIGIN, IngestServer, Recorder
from tests.procs import create_site_and_token, start_server, stop_server, ws_url
from tests.rrweb_events import deep_page_events, mouse_move, now_ms, page_events
from tests.trip import pack_any

SPOOL_HEADER = struct.Struct("<2sII")  # docs/architecture.md: the spool's framing


def spool_frame(payload: bytes) -> bytes:
    return SPOOL_HEADER.pack(b"RS", len(payload), zlib.crc32(payload)) + payload


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def poison_payload(site_id: int, sid: str, seq: int) -> bytes:
    """A spool record an earlier version could write: a frame kept as it came,
    whose events nest deeper than any decoder goes (it cannot be chunked)."""
    t = now_ms()
    frame = pack_any(
        {
            "t": "batch",
            "seq": seq,
            "page": 0,
            "events": [{"type": 5, "timestamp": t, "data": {"tag": "x", "p": nested(1100)}}],
        }
    )
    return encode_spool_payload(SpoolEntry(site_id, sid, seq, 0, []), frame)


def good_payload(site_id: int, sid: str, seq: int, x: int) -> bytes:
    return encode_spool_payload(SpoolEntry(site_id, sid, seq, 0, [mouse_move(now_ms(), x=x)]))


async def test_a_deep_page_is_acked_stored_and_read_back(
    ingest: IngestServer, recorder: Recorder
) -> None:
    events = deep_page_events(now_ms(), 200)
    await recorder.connect()
    await recorder.batch(0, events)
    assert await recorder.recv() == {"t": "ack", "seq": 0}
    ingestor = ingest.app[keys.INGESTOR]
    await ingestor.cut(ingestor.sessions[recorder.sid])
    assert ingestor._pending_total == 0
    await recorder.batch(1, [mouse_move(now_ms() + 5)])
    assert (await recorder.recv())["seq"] == 1
    await recorder.close()
    stored = await ingest.events(recorder.sid)
    assert stored[:2] == events and len(stored) == 3


async def test_a_page_deeper_than_the_limit_is_acked_with_its_deepest_nodes_pruned(
    ingest: IngestServer, recorder: Recorder
) -> None:
    await recorder.connect()
    await recorder.batch(0, deep_page_events(now_ms(), 300))
    assert await recorder.recv() == {"t": "ack", "seq": 0}
    await recorder.close()
    [_, snapshot] = await ingest.events(recorder.sid)
    assert '"data-rs-pruned"' in json.dumps(snapshot)


async def test_data_too_deep_to_carry_is_refused_and_what_was_acked_stays(
    ingest: IngestServer, recorder: Recorder
) -> None:
    await recorder.connect()
    await recorder.batch(0, page_events(now_ms(), items=1))
    assert (await recorder.recv())["seq"] == 0
    deepest = {"type": 5, "timestamp": now_ms(), "data": {"tag": "x", "p": nested(600)}}
    await recorder.batch(1, [deepest])
    reply = await recorder.recv()
    assert reply["t"] == "error" and reply["code"] == "too_deep", reply
    with pytest.raises(ConnectionClosed):
        await recorder.recv()
    assert recorder.ws is not None and recorder.ws.close_code == 4400
    assert len(await ingest.events(recorder.sid)) == 3


async def test_a_record_that_cannot_be_chunked_is_quarantined_not_retried(
    ingest: IngestServer, recorder: Recorder
) -> None:
    """On a running node: the cut stores the others, keeps the poison aside,
    and the pending total drains (acks go on for everyone)."""
    await recorder.connect()
    await recorder.batch(0, [mouse_move(now_ms(), x=0)])
    assert (await recorder.recv())["seq"] == 0
    ingestor = ingest.app[keys.INGESTOR]
    state = ingestor.sessions[recorder.sid]
    for seq, payload in ((1, poison_payload(ingest.site_id, recorder.sid, 1)),):
        record = await ingestor.spool.append(payload)
        ingestor._pending_total += record.length
        state.add_pending(PendingBatch(record, seq, 0, 0, 0, 1, False, len(payload)))
        state.acked_seq = seq
    await recorder.batch(2, [mouse_move(now_ms(), x=2)])
    assert (await recorder.recv())["seq"] == 2
    await ingestor.cut(state)
    assert not state.pending and ingestor._pending_total == 0
    read = await ingest.app[keys.READER].read_session(
        session_id=recorder.sid, site_id=ingest.site_id
    )
    assert [e["data"]["positions"][0]["x"] for e in read.events] == [0, 2]
    assert [m.reason.split(":")[0] for m in read.missing] == ["quarantined"]
    metrics = ingest.app[keys.METRICS]
    assert metrics.quarantined_batches._value.get() == 1  # type: ignore[attr-defined]
    # Acks go on.
    await recorder.batch(3, [mouse_move(now_ms(), x=3)])
    assert (await recorder.recv())["seq"] == 3


@pytest.mark.slow
async def test_the_server_starts_over_a_spool_with_poison_records(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        site_key, token = create_site_and_token(server, ORIGIN)
        rec = Recorder(ws_url(server), site_key)
        await rec.connect()
        deep = deep_page_events(now_ms(), 200)
        await rec.batch(0, deep)
        assert (await rec.recv())["seq"] == 0
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{server.url}/api/v1/sites", headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            site_id = (await response.json())["sites"][0]["id"]
    finally:
        stop_server(server, signal.SIGKILL)  # batch 0 is acked, in the spool only
    # What an earlier version may have left: a record that cannot be chunked,
    # one whose header cannot be read, and good ones after them.
    segment = data_dir / "spool" / "0000009999.spool"
    segment.write_bytes(
        spool_frame(poison_payload(site_id, rec.sid, 1))
        + spool_frame(b"\xc1not msgpack")
        + spool_frame(good_payload(site_id, rec.sid, 2, x=2))
    )

    restarted = start_server(data_dir)
    try:
        async with aiohttp.ClientSession() as http:
            auth = {"Authorization": f"Bearer {token}"}
            url = f"{restarted.url}/api/v1/sessions/{rec.sid}/events"
            async with http.get(url, headers=auth) as response:
                assert response.status == 200, await response.text()
                body = await response.json()
            async with http.get(f"{restarted.url}/metrics") as response:
                metrics = await response.text()
        assert body["events"][:2] == deep
        xs = [e["data"]["positions"][0]["x"] for e in body["events"][2:]]
        assert xs == [2]
        assert [m["reason"].split(":")[0] for m in body["missing"]] == ["quarantined"]
        assert "replay_quarantined_batches_total 2.0" in metrics
        kept = sorted(p.name for p in (data_dir / "blobs").rglob("*") if p.is_file())
        assert any(name.endswith(".quarantined") for name in kept)
        assert any(name.endswith(".unreadable") for name in kept)
        assert not segment.exists()
        # The node records as usual.
        rec2 = Recorder(ws_url(restarted), site_key, sid=rec.sid, vid=rec.vid)
        assert (await rec2.connect())["acked"] == 2
        await rec2.batch(3, [mouse_move(now_ms(), x=3)])
        assert (await rec2.recv())["seq"] == 3
        await rec2.close()
    finally:
        stop_server(restarted)
