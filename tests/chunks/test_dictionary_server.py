"""A real server (real sockets, the chunk worker process, SQLite or PostgreSQL)
ingests enough of a site's sessions that its dictionary gets trained in the
background; later chunks are compressed with it, and every session still
replays through the events API and through the stored chunks and dictionary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from replay_server import keys
from replay_server.accounts import orgs as accounts
from replay_server.chunks.dictionaries import MIN_CHUNKS, MIN_RAW_BYTES
from replay_server.chunks.format import ChunkDictionary, chunk_dictionary_id, decode_chunk
from replay_server.db.models import Chunk, Site, SiteDictionary
from replay_server.timeutil import now_ms
from tests.chunks.site_pages import site_sessions
from tests.ingest_server import IngestServer, Recorder, start_ingest_server

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
BATCH_EVENTS = 25
T = TypeVar("T")


async def record(server: IngestServer, pages: list[list[dict[str, Any]]]) -> list[str]:
    """Each page as a session of its own, in batches, until every batch is acked."""
    sids = []
    for events in pages:
        recorder = Recorder(server.ws_url, server.site_key)
        welcome = await recorder.connect()
        assert welcome["t"] == "welcome", welcome
        batches = [events[i : i + BATCH_EVENTS] for i in range(0, len(events), BATCH_EVENTS)]
        for seq, batch in enumerate(batches):
            await recorder.batch(seq, batch)
        while (reply := await recorder.recv())["t"] != "ack" or reply["seq"] < len(batches) - 1:
            assert reply["t"] == "ack", reply
        await recorder.close()
        sids.append(recorder.sid)
    return sids


async def poll(probe: Callable[[], Awaitable[T | None]], timeout: float = 90.0) -> T:
    deadline = time.monotonic() + timeout
    while (value := await probe()) is None:
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)
    return value


async def api_token(server: IngestServer) -> str:
    async with server.app[keys.DB]() as db:
        org_id = await db.scalar(select(Site.org_id).where(Site.id == server.site_id))
        assert org_id is not None
        await accounts.create_user(
            db, "viewer@example.com", "pw-viewer-1", org_id=org_id, role="viewer"
        )
        token, _ = await accounts.create_api_token(db, "viewer@example.com")
        await db.commit()
    return token


async def test_a_site_dictionary_is_trained_used_and_replayed(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
) -> None:
    server = await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        retention_sweep_seconds=0.5,  # the maintenance cadence the trainer runs at
        chunk_max_age_seconds=0.2,
    )
    db = server.app[keys.DB]
    start = now_ms() - 3_600_000
    first = [p for s in site_sessions(21, 60, max_pages=1, start_ms=start) for p in s]
    early = await record(server, first)

    async def dictionary() -> SiteDictionary | None:
        async with db() as s:
            return await s.scalar(
                select(SiteDictionary).where(SiteDictionary.site_id == server.site_id)
            )

    trained = await poll(dictionary)
    async with db() as s:
        totals = list(await s.scalars(select(Chunk.raw_bytes)))
    # Trained once there was enough, not before (the thresholds of dictionaries.py).
    assert len(totals) >= MIN_CHUNKS and sum(totals) >= MIN_RAW_BYTES
    assert trained.sample_count > 0 and len(trained.data) > 1000

    later_pages = [
        p for s in site_sessions(22, 4, max_pages=1, start_ms=start + 1_800_000) for p in s
    ]
    later = await record(server, later_pages)

    async def compressed_with_it() -> list[Chunk] | None:
        async with db() as s:
            rows = list(await s.scalars(select(Chunk).where(Chunk.session_id.in_(later))))
        done = {r.session_id for r in rows}
        return rows if done == set(later) else None

    rows = await poll(compressed_with_it)
    assert {r.dictionary_id for r in rows} == {trained.id}

    token = await api_token(server)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(server.http_url, headers=headers) as http:
        for sid, sent in [
            *zip(early[:3], first[:3], strict=True),
            *zip(later, later_pages, strict=True),
        ]:
            async with http.get(f"/api/v1/sessions/{sid}/events") as response:
                assert response.status == 200
                body = await response.json()
            assert body["missing"] == [] and body["events"] == sent
            async with http.get(f"/api/v1/sessions/{sid}") as response:
                items = (await response.json())["chunks"]["items"]
            from_blobs: list[dict[str, Any]] = []
            for item in items:
                async with http.get(f"/api/v1/sessions/{sid}/chunks/{item['idx']}") as response:
                    blob = await response.read()
                dictionary = None
                if dict_id := chunk_dictionary_id(blob):
                    url = f"/api/v1/sites/{server.site_id}/dictionaries/{dict_id}"
                    async with http.get(url) as response:
                        dictionary = ChunkDictionary(dict_id, await response.read())
                from_blobs.extend(decode_chunk(blob, dictionary))
            assert sorted(from_blobs, key=lambda e: e["timestamp"]) == sent
