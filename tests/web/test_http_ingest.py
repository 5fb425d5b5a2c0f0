"""The HTTP fallback POST /ingest/batch (web/http_ingest.py): a hello and its
batches in one body, acked and stored once, CORS for the site's origin only;
its preflight. On SQLite and, where REPLAY_TEST_POSTGRES_URL is set, PostgreSQL."""

from __future__ import annotations

import json

import aiohttp

from tests.conftest import BOTH_DATABASES
from tests.ingest_server import ORIGIN, IngestServer, Recorder
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = BOTH_DATABASES


async def test_http_fallback_json_and_dedup(ingest: IngestServer, recorder: Recorder) -> None:
    t = now_ms()
    body = {
        "hello": {k: v for k, v in recorder.hello().items() if k != "t"},
        "batches": [
            {"seq": 0, "page": 0, "events": page_events(t, items=1)},
            {"seq": 1, "page": 0, "events": [mouse_move(t + 50)]},
        ],
    }
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # the second post is a resend: acked, not stored again
            async with http.post(
                f"{ingest.http_url}/ingest/batch",
                data=json.dumps(body),
                headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
            ) as r:
                assert r.status == 200
                assert (await r.json())["acked"] == 1
                assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
        async with http.post(
            f"{ingest.http_url}/ingest/batch",
            data=json.dumps(body),
            headers={"Origin": "http://evil.test"},
        ) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "origin_not_allowed"
        async with http.post(
            f"{ingest.http_url}/ingest/batch", data=b"{not json", headers={"Origin": ORIGIN}
        ) as r:
            assert r.status == 400
    assert len(await ingest.events(recorder.sid)) == 4


async def test_the_preflight_allows_a_post_from_the_origin(ingest: IngestServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.options(
            f"{ingest.http_url}/ingest/batch",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        ) as r,
    ):
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert r.headers["Access-Control-Allow-Methods"] == "POST"
        assert r.headers["Access-Control-Allow-Headers"] == "Content-Type"
