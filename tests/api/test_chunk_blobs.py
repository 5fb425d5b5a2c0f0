"""Chunks served as stored and site dictionaries (api/chunks.py)."""

from __future__ import annotations

from typing import Any

import pytest

from replay_server import keys
from replay_server.chunks.dictionaries import samples_of, train
from replay_server.chunks.dictionary_store import add_dictionary
from replay_server.chunks.format import QUARANTINED, ChunkDictionary, decode_chunk, encode_chunk
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.chunks.site_pages import site_sessions
from tests.conftest import AddSession, Tenant

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
IMMUTABLE = "private, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def trained() -> bytes:
    pages = [p for s in site_sessions(11, 20) for p in s]
    data = train([piece for p in pages for piece in samples_of(p)])
    assert data is not None
    return data


async def store_chunk(
    client: Client,
    sid: str,
    idx: int,
    events: list[dict[str, Any]],
    dictionary: ChunkDictionary | None = None,
    format_version: int = 2,
) -> bytes:
    data, raw = encode_chunk(events, dictionary)
    key = f"s/test/{sid}/{idx:06d}.rsc"
    await client.app[keys.BLOBS].put(key, data)
    stamps = [e["timestamp"] for e in events]
    async with client.app[keys.DB]() as s:
        s.add(
            Chunk(
                session_id=sid, idx=idx, page=0, blob_key=key, format_version=format_version,
                first_seq=idx, last_seq=idx, first_ts=min(stamps), last_ts=max(stamps),
                event_count=len(events), raw_bytes=raw, stored_bytes=len(data),
                has_full_snapshot=True, created_ms=now_ms(),
                dictionary_id=dictionary.id if dictionary else 0,
            )
        )  # fmt: skip
        await s.commit()
    return data


async def test_chunk_blob_is_served_as_stored_and_replays_like_the_events_api(
    client: Client, tenant: Tenant, add_session: AddSession, db: SessionFactory, trained: bytes
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    dict_id = await add_dictionary(db, tenant.site_id, trained, 10, 1000, now_ms())
    dictionary = ChunkDictionary(dict_id, trained)
    events = site_sessions(12, 1)[0][0]
    stored = await store_chunk(client, sid, 0, events, dictionary)

    response = await client.get(f"/api/v1/sessions/{sid}/chunks/0", headers=tenant.headers)
    assert response.status == 200
    assert await response.read() == stored
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.content_type == "application/vnd.replay-server.chunk"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")

    got = await client.get(
        f"/api/v1/sites/{tenant.site_id}/dictionaries/{dict_id}", headers=tenant.headers
    )
    assert got.status == 200 and got.headers["Cache-Control"] == IMMUTABLE
    served = ChunkDictionary(dict_id, await got.read())
    # What a player decodes from the two is what the events API returns.
    api = await client.get(f"/api/v1/sessions/{sid}/events", headers=tenant.headers)
    assert decode_chunk(stored, served) == (await api.json())["events"] == events


async def test_if_none_match_is_304_without_a_body(
    client: Client, tenant: Tenant, add_session: AddSession, db: SessionFactory, trained: bytes
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    await store_chunk(client, sid, 0, site_sessions(13, 1)[0][0])
    dict_id = await add_dictionary(db, tenant.site_id, trained, 10, 1000, now_ms())
    for url in (
        f"/api/v1/sessions/{sid}/chunks/0",
        f"/api/v1/sites/{tenant.site_id}/dictionaries/{dict_id}",
    ):
        first = await client.get(url, headers=tenant.headers)
        etag = first.headers["ETag"]
        for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
            again = await client.get(url, headers={**tenant.headers, "If-None-Match": header})
            assert again.status == 304, (url, header)
            assert await again.read() == b""
            assert again.headers["ETag"] == etag
            assert again.headers["Cache-Control"] == IMMUTABLE
        other = await client.get(url, headers={**tenant.headers, "If-None-Match": '"nope"'})
        assert other.status == 200


async def test_etags_differ_between_chunks(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    await store_chunk(client, sid, 0, site_sessions(14, 1)[0][0])
    await store_chunk(client, sid, 1, site_sessions(15, 1)[0][0])
    tags = set()
    for idx in (0, 1):
        response = await client.get(f"/api/v1/sessions/{sid}/chunks/{idx}", headers=tenant.headers)
        tags.add(response.headers["ETag"])
    assert len(tags) == 2


async def test_another_organisations_chunks_and_dictionaries_are_404(
    client: Client,
    tenant: Tenant,
    other_tenant: Tenant,
    add_session: AddSession,
    db: SessionFactory,
    trained: bytes,
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    await store_chunk(client, sid, 0, site_sessions(16, 1)[0][0])
    dict_id = await add_dictionary(db, tenant.site_id, trained, 10, 1000, now_ms())
    theirs = [
        f"/api/v1/sessions/{sid}/chunks/0",
        f"/api/v1/sites/{tenant.site_id}/dictionaries/{dict_id}",
    ]
    absent = [
        "/api/v1/sessions/00000000-0000-4000-8000-000000000000/chunks/0",
        f"/api/v1/sites/{tenant.site_id + 1000}/dictionaries/{dict_id}",
    ]
    for url, missing in zip(theirs, absent, strict=True):
        foreign = await client.get(url, headers=other_tenant.headers)
        nothing = await client.get(missing, headers=other_tenant.headers)
        assert foreign.status == nothing.status == 404, url
        assert await foreign.json() == await nothing.json()
        unauthenticated = await client.get(url)
        assert unauthenticated.status == 401
    # A dictionary is reached only through its own site.
    mine = await client.get(
        f"/api/v1/sites/{other_tenant.site_id}/dictionaries/{dict_id}",
        headers=other_tenant.headers,
    )
    assert mine.status == 404


@pytest.mark.parametrize(
    "chunk", ["1", "-1", "abc", "1.0", "99999999999", "\u0661", "%00", "0x0", "+0", "%20"]
)
async def test_hostile_chunk_indexes_are_404(
    client: Client, tenant: Tenant, add_session: AddSession, chunk: str
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    await store_chunk(client, sid, 0, site_sessions(17, 1)[0][0])
    response = await client.get(f"/api/v1/sessions/{sid}/chunks/{chunk}", headers=tenant.headers)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", ["0", "-5", "x", "9" * 40, "%00", "\u00b2"])
async def test_hostile_dictionary_ids_are_404(client: Client, tenant: Tenant, value: str) -> None:
    for url in (
        f"/api/v1/sites/{tenant.site_id}/dictionaries/{value}",
        f"/api/v1/sites/{value}/dictionaries/1",
    ):
        response = await client.get(url, headers=tenant.headers)
        assert response.status == 404, url
        assert (await response.json())["error"]["code"] == "not_found"


async def test_hostile_session_ids_are_404(client: Client, tenant: Tenant) -> None:
    for sid in ("%00", "x" * 300, "%ED%A0%80", "..%2F..%2Fetc"):
        response = await client.get(f"/api/v1/sessions/{sid}/chunks/0", headers=tenant.headers)
        assert response.status == 404, sid


async def test_quarantined_and_lost_blobs_are_404(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://shop.example/"])
    await store_chunk(client, sid, 0, site_sessions(18, 1)[0][0], format_version=QUARANTINED)
    await store_chunk(client, sid, 1, site_sessions(19, 1)[0][0])
    await client.app[keys.BLOBS].delete_prefix(f"s/test/{sid}/000001")
    for idx in (0, 1):
        response = await client.get(f"/api/v1/sessions/{sid}/chunks/{idx}", headers=tenant.headers)
        assert response.status == 404, idx
