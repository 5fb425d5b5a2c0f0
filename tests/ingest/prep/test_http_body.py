"""HTTP fallback bodies become protocol frames in a frame worker (http_body),
so decoding a hostile body never runs on the event loop."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import aiohttp
import msgpack
import pytest

from replay_server.errors import InvalidMessage, ReplayError, TooLarge
from replay_server.ingest.prep.http_body import split_http_body
from replay_server.ingest.prep.workers import FrameWorkers
from replay_server.protocol import parse_message, unpack_frame
from tests.ingest.prep.test_workers import CONFIG
from tests.ingest_server import ORIGIN, IngestServer
from tests.rrweb_events import mouse_move, now_ms, page_events
from tests.trip import LIMITS

SID = "6f1c2a52-8f0e-4d0e-9f53-1b7f5c8c2d11"


def hello(**changes: Any) -> dict[str, Any]:
    return {
        "site": "pk_" + "a" * 24,
        "sid": SID,
        "vid": "0b4f1f9e-3f5d-4a8e-8f3c-2d1e0c9b8a71",
        "page": 0,
        "url": "https://shop.test/",
        "clock": now_ms(),
        **changes,
    }


def body(batches: list[dict[str, Any]], **hello_changes: Any) -> bytes:
    return json.dumps({"hello": hello(**hello_changes), "batches": batches}).encode()


def test_a_body_becomes_a_hello_frame_and_batch_frames_in_seq_order() -> None:
    t = now_ms()
    batches = [
        {"seq": 1, "page": 0, "events": [mouse_move(t + 1)]},
        {"seq": 0, "page": 0, "events": page_events(t)},
    ]
    frames = split_http_body(body(batches, title="Shop \ud800"), "text/plain", LIMITS)
    first = parse_message(unpack_frame(frames.hello, LIMITS), LIMITS)
    assert first == parse_message(
        {"t": "hello", **hello(title="Shop \ufffd", clock=first.clock)},
        LIMITS,  # type: ignore[union-attr]
    )
    decoded = [msgpack.unpackb(f) for f in frames.batches]
    assert [(d["t"], d["seq"]) for d in decoded] == [("batch", 0), ("batch", 1)]
    assert decoded[0]["events"] == page_events(t)


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (json.dumps({"batches": []}).encode(), InvalidMessage, "hello_required"),
        (body([[]]), InvalidMessage, "invalid_message"),
        (
            body([{"seq": 0, "page": 0, "events": [{"type": 5, "x": 2**64}]}]),
            InvalidMessage,
            "invalid_event",
        ),
        (
            gzip.compress(b'{"hello":{},"batches":[' + b"[]," * 1_000_000 + b"[]]}"),
            TooLarge,
            "batch_too_large",
        ),
    ],
    ids=["no hello", "a batch that is no map", "an integer past 64 bits", "a JSON bomb"],
)
def test_bodies_that_cannot_be_carried_are_refused(
    data: bytes, error: type[ReplayError], code: str
) -> None:
    with pytest.raises(error) as caught:
        split_http_body(data, "text/plain", LIMITS)
    assert caught.value.code == code


async def test_a_frame_worker_splits_bodies_and_refuses_bombs() -> None:
    workers = FrameWorkers(1, CONFIG)
    try:
        t = now_ms()
        data = body([{"seq": 0, "page": 0, "events": page_events(t)}])
        frames = await workers.split(data, "text/plain")
        assert frames == split_http_body(data, "text/plain", LIMITS)
        bomb = gzip.compress(b'{"hello":{},"batches":[' + b"{}," * 2_000_000 + b"{}]}")
        with pytest.raises(TooLarge):
            await workers.split(bomb, "text/plain")
        with pytest.raises(InvalidMessage):
            await workers.split(b"\x93", "application/msgpack")
        # The worker is still there and serves the next request.
        assert await workers.split(data, "text/plain") == frames
    finally:
        await workers.close()


async def test_the_endpoint_answers_a_bomb_with_413_and_stores_a_good_body(
    ingest: IngestServer,
) -> None:
    bomb = gzip.compress(b'{"hello":{},"batches":[' + b"{}," * 2_000_000 + b"{}]}")
    t = now_ms()
    sid = str(uuid.uuid4())
    good = json.dumps(
        {
            "hello": {**hello(sid=sid, clock=t), "site": ingest.site_key},
            "batches": [
                {"seq": 1, "page": 0, "events": [mouse_move(t + 5)]},
                {"seq": 0, "page": 0, "events": page_events(t)},
            ],
        }
    ).encode()
    headers = {"Origin": ORIGIN, "Content-Type": "text/plain"}
    async with aiohttp.ClientSession() as http:
        url = ingest.http_url + "/ingest/batch"
        async with http.post(url, data=bomb, headers=headers) as response:
            assert response.status == 413
            assert (await response.json())["error"]["code"] == "batch_too_large"
        async with http.post(url, data=good, headers=headers) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["acked"] == 1
    assert len(await ingest.events(sid)) == len(page_events(t)) + 1
