"""A recorder forced to send clear values (a protocol client, not our recorder):
the server masks them before anything is stored, and counts them. A browser
that sends Do Not Track / Global Privacy Control is not recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import pytest
from sqlalchemy import func, select, update
from websockets.asyncio.client import connect

from replay_server import keys
from replay_server.chunks.format import decompress_chunk
from replay_server.db.models import RecordedSession, Site
from tests.ingest_server import BOTH_FRAME_PATHS, ORIGIN, IngestServer, Recorder
from tests.rrweb_events import now_ms

TYPED = "Typed-By-Jane-8812"
PASSWORD = "hunter2-Pa55"


def tampered_page(start: int) -> list[dict[str, Any]]:
    body = {
        "type": 2,
        "id": 4,
        "tagName": "body",
        "attributes": {},
        "childNodes": [
            {
                "type": 2,
                "id": 5,
                "tagName": "input",
                "attributes": {"type": "email", "value": TYPED},
                "childNodes": [],
            },
            {
                "type": 2,
                "id": 6,
                "tagName": "input",
                "attributes": {"type": "password", "value": PASSWORD},
                "childNodes": [],
            },
            {
                "type": 2,
                "id": 7,
                "tagName": "textarea",
                "attributes": {},
                "childNodes": [{"type": 3, "id": 8, "textContent": TYPED}],
            },
        ],
    }
    html = {"type": 2, "id": 3, "tagName": "html", "attributes": {}, "childNodes": [body]}
    return [
        {
            "type": 4,
            "timestamp": start,
            "data": {"href": ORIGIN + "/", "width": 800, "height": 600},
        },
        {
            "type": 2,
            "timestamp": start + 1,
            "data": {
                "node": {"type": 0, "id": 1, "childNodes": [html]},
                "initialOffset": {"top": 0, "left": 0},
            },
        },
        {
            "type": 3,
            "timestamp": start + 2,
            "data": {"source": 5, "id": 5, "text": TYPED, "isChecked": False},
        },
        {
            "type": 3,
            "timestamp": start + 3,
            "data": {"source": 5, "id": 6, "text": PASSWORD, "isChecked": False},
        },
    ]


def stored(data_dir: Path) -> bytes:
    parts = [decompress_chunk(blob.read_bytes()) for blob in (data_dir / "blobs").rglob("*.rsc")]
    parts.extend(p.read_bytes() for p in (data_dir / "spool").glob("*"))
    return b"\n".join(parts)


async def set_site_settings(ingest: IngestServer, **settings: Any) -> None:
    async with ingest.app[keys.DB]() as db, db.begin():
        await db.execute(update(Site).where(Site.id == ingest.site_id).values(settings=settings))
    ingest.app[keys.SITES].forget(ingest.site_key)


def masked_count(ingest: IngestServer) -> float:
    value = ingest.app[keys.METRICS].registry.get_sample_value("replay_ingest_masked_values_total")
    return value or 0.0


@BOTH_FRAME_PATHS
@pytest.mark.parametrize("mask_all_inputs", [True, False])
async def test_server_masks_what_a_tampered_recorder_sends(
    ingest: IngestServer, recorder: Recorder, tmp_path: Path, mask_all_inputs: bool
) -> None:
    await set_site_settings(ingest, mask_all_inputs=mask_all_inputs)
    welcome = await recorder.connect()
    assert welcome["config"]["maskAllInputs"] is mask_all_inputs
    await recorder.batch(0, tampered_page(now_ms()))
    assert (await recorder.recv()) == {"t": "ack", "seq": 0}

    live_events = await ingest.events(recorder.sid)  # from the spool, before chunking
    await recorder.close()
    as_text = repr(live_events)
    assert PASSWORD not in as_text  # passwords: always
    assert ("*" * len(PASSWORD)) in as_text
    if mask_all_inputs:
        assert TYPED not in as_text
        assert masked_count(ingest) == 5  # 2 values, the textarea's text, 2 Input events
    else:
        assert TYPED in as_text
        assert masked_count(ingest) == 2

    # once chunked, nothing in storage holds the password either
    state = ingest.app[keys.INGESTOR].sessions[recorder.sid]
    await ingest.app[keys.INGESTOR].cut(state)
    everything = stored(tmp_path / "data")
    assert PASSWORD.encode() not in everything
    assert (TYPED.encode() in everything) is (not mask_all_inputs)


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
async def test_dnt_and_gpc_browsers_are_refused(
    ingest: IngestServer, recorder: Recorder, header: dict[str, str]
) -> None:
    async with connect(ingest.ws_url, origin=ORIGIN, additional_headers=header) as ws:  # type: ignore[arg-type]
        await ws.send(msgpack.packb(recorder.hello()))
        welcome = msgpack.unpackb(await ws.recv())
    assert welcome["t"] == "welcome" and welcome["config"]["record"] is False
    async with ingest.app[keys.DB]() as db:
        assert await db.scalar(select(func.count()).select_from(RecordedSession)) == 0


async def test_dnt_is_ignored_when_the_site_says_so(
    ingest: IngestServer, recorder: Recorder
) -> None:
    await set_site_settings(ingest, honor_dnt=False)
    async with connect(ingest.ws_url, origin=ORIGIN, additional_headers={"DNT": "1"}) as ws:  # type: ignore[arg-type]
        await ws.send(msgpack.packb(recorder.hello()))
        welcome = msgpack.unpackb(await ws.recv())
    assert welcome["config"]["record"] is True
