from __future__ import annotations

from typing import Any

import msgpack
import pytest

from replay_server import keys
from replay_server.chunks.format import encode_chunk
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.conftest import AddSession, MakeTenant, Tenant

# Every test here runs on SQLite and, where REPLAY_TEST_POSTGRES_URL is set, PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)

SUMMARY_FIELDS = {
    "id", "site_id", "visitor_id", "started_at", "started_at_ms", "last_event_ms",
    "duration_ms", "live", "page_count", "browser", "os", "device", "user_agent",
    "viewport", "screen", "lang", "tz", "referrer", "entry_url",
    "browser_version", "country", "referrer_domain", "exit_url", "utm", "click_count",
    "input_count", "rage_click_count", "dead_click_count", "error_count", "active_ms",
}  # fmt: skip


async def sessions(client: Client, tenant: Tenant, **params: str | int) -> dict[str, Any]:
    url = f"/api/v1/sites/{tenant.site_id}/sessions"
    response = await client.get(url, params=params, headers=tenant.headers)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_list_is_newest_first_with_summary_fields(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    old = await add_session(tenant.site_id, ["https://a.example/"], started_ms=1_000_000)
    new = await add_session(tenant.site_id, ["https://a.example/x"], started_ms=2_000_000)
    body = await sessions(client, tenant)
    assert [s["id"] for s in body["sessions"]] == [new, old]
    assert body["next_cursor"] is None
    first = body["sessions"][0]
    assert set(first) == SUMMARY_FIELDS
    assert first["started_at"] == "1970-01-01T00:33:20.000Z"
    assert first["started_at_ms"] == 2_000_000
    assert first["entry_url"] == "https://a.example/x"


async def test_url_filter_matches_any_page_case_insensitively(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    checkout = await add_session(
        tenant.site_id, ["https://a.example/", "https://a.example/Shop/CHECKOUT?step=2"]
    )
    await add_session(tenant.site_id, ["https://a.example/", "https://a.example/about"])
    percent = await add_session(tenant.site_id, ["https://a.example/100%25_off"])
    for term in ("checkout", "/shop/checkout", "STEP=2"):
        body = await sessions(client, tenant, url=term)
        assert [s["id"] for s in body["sessions"]] == [checkout], term
    # LIKE wildcards are literal characters in the search term.
    assert [s["id"] for s in (await sessions(client, tenant, url="%25_"))["sessions"]] == [percent]
    assert (await sessions(client, tenant, url="a%b"))["sessions"] == []


async def test_keyset_pagination_is_stable_with_equal_start_times(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    ids = [
        await add_session(tenant.site_id, ["https://a.example/"], started_ms=5_000, id=f"s-{i}")
        for i in range(3)
    ]
    ids += [await add_session(tenant.site_id, ["https://a.example/"], started_ms=4_000)]
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = await sessions(client, tenant, **params)
        seen += [s["id"] for s in body["sessions"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert pages == 2
    assert seen == ["s-2", "s-1", "s-0", ids[3]]


async def test_default_limit_is_50(client: Client, tenant: Tenant, add_session: AddSession) -> None:
    for i in range(51):
        await add_session(tenant.site_id, [f"https://a.example/{i}"], started_ms=10_000 + i)
    body = await sessions(client, tenant)
    assert len(body["sessions"]) == 50
    assert body["next_cursor"] is not None
    rest = await sessions(client, tenant, cursor=body["next_cursor"])
    assert [s["started_at_ms"] for s in rest["sessions"]] == [10_000]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"cursor": "%%%"},
        {"cursor": "bm9jb2xvbg"},  # base64 of "nocolon"
    ],
)
async def test_invalid_parameters_are_400(
    client: Client, tenant: Tenant, params: dict[str, str]
) -> None:
    url = f"/api/v1/sites/{tenant.site_id}/sessions"
    response = await client.get(url, params=params, headers=tenant.headers)
    assert response.status == 400
    body = await response.json()
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["message"]


async def test_detail_has_pages_chunks_and_live(
    client: Client, db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    now = now_ms()
    sid = await add_session(
        tenant.site_id,
        ["https://a.example/", "https://a.example/cart"],
        started_ms=now - 5000,
        ended_ms=None,
        last_seen_ms=now - 1000,
        last_event_ms=now - 1200,
        viewport_w=1280,
        viewport_h=720,
        browser="Firefox",
    )
    async with db() as s:
        for idx in range(2):
            s.add(
                Chunk(
                    session_id=sid, idx=idx, page=0, blob_key=f"k{idx}", format_version=1,
                    first_seq=idx, last_seq=idx, first_ts=now, last_ts=now, event_count=3,
                    raw_bytes=1000, stored_bytes=100, has_full_snapshot=idx == 0, created_ms=now,
                )
            )  # fmt: skip
        await s.commit()
    response = await client.get(f"/api/v1/sessions/{sid}", headers=tenant.headers)
    assert response.status == 200
    body = await response.json()
    assert set(body) == SUMMARY_FIELDS | {"pages", "chunks"}
    assert body["live"] is True
    assert body["viewport"] == [1280, 720] and body["screen"] is None
    assert body["last_event_ms"] == now - 1200
    items = body["chunks"].pop("items")
    assert body["chunks"] == {"count": 2, "raw_bytes": 2000, "stored_bytes": 200}
    assert [(c["idx"], c["page"], c["has_full_snapshot"]) for c in items] == [
        (0, 0, True),
        (1, 0, False),
    ]
    assert set(items[0]) == {
        "idx", "page", "first_ts", "last_ts", "events", "raw_bytes", "has_full_snapshot"
    }  # fmt: skip
    assert [(p["page"], p["url"]) for p in body["pages"]] == [
        (0, "https://a.example/"),
        (1, "https://a.example/cart"),
    ]
    assert set(body["pages"][0]) == {
        "page", "url", "path", "title", "started_at_ms", "ended_at_ms", "duration_ms",
    }  # fmt: skip


async def test_finished_or_silent_sessions_are_not_live(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    now = now_ms()
    ended = await add_session(tenant.site_id, ["https://a.example/"], last_seen_ms=now)
    silent = await add_session(
        tenant.site_id, ["https://a.example/"], ended_ms=None, last_seen_ms=now - 91_000
    )
    for sid in (ended, silent):
        body = await (await client.get(f"/api/v1/sessions/{sid}", headers=tenant.headers)).json()
        assert body["live"] is False


async def test_other_organisations_objects_are_404_like_missing_ones(
    client: Client, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    sid = await add_session(alice.site_id, ["https://alice.example/secret"])
    own = await client.get(f"/api/v1/sessions/{sid}", headers=alice.headers)
    assert own.status == 200
    for url, missing in (
        (f"/api/v1/sites/{alice.site_id}/sessions", "/api/v1/sites/99999/sessions"),
        (f"/api/v1/sessions/{sid}", "/api/v1/sessions/no-such-session"),
        (f"/api/v1/sessions/{sid}/events", "/api/v1/sessions/no-such-session/events"),
    ):
        foreign = await client.get(url, headers=bob.headers)
        absent = await client.get(missing, headers=bob.headers)
        assert foreign.status == absent.status == 404, url
        assert await foreign.json() == await absent.json()
    # Bob's own searches never reach Alice's sessions.
    mine = await client.get(
        f"/api/v1/sites/{bob.site_id}/sessions", params={"url": "secret"}, headers=bob.headers
    )
    assert (await mine.json())["sessions"] == []


async def test_non_numeric_site_id_is_404(client: Client, tenant: Tenant) -> None:
    for site_id in ("abc", "1" * 40, "-1", "\u00b2", "\u0661"):
        response = await client.get(f"/api/v1/sites/{site_id}/sessions", headers=tenant.headers)
        assert response.status == 404


async def store_chunk(
    client: Client,
    sid: str,
    idx: int,
    page: int,
    events: list[dict[str, Any]],
) -> None:
    data, raw_size = encode_chunk(events)
    key = f"test/{sid}/{idx:06d}"
    await client.app[keys.BLOBS].put(key, data)
    stamps = [e["timestamp"] for e in events]
    async with client.app[keys.DB]() as s:
        s.add(
            Chunk(
                session_id=sid, idx=idx, page=page, blob_key=key, format_version=1,
                first_seq=idx, last_seq=idx, first_ts=min(stamps), last_ts=max(stamps),
                event_count=len(events), raw_bytes=raw_size, stored_bytes=len(data),
                has_full_snapshot=True, created_ms=now_ms(),
            )
        )  # fmt: skip
        await s.commit()


async def test_events_json_and_msgpack(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://a.example/", "https://a.example/2"])
    page0 = [{"type": 4, "timestamp": 1000, "data": {"href": "https://a.example/"}},
             {"type": 3, "timestamp": 1500, "data": {"source": 1}}]  # fmt: skip
    page1 = [{"type": 4, "timestamp": 2000, "data": {"href": "https://a.example/2"}}]
    await store_chunk(client, sid, 0, 0, page0)
    await store_chunk(client, sid, 1, 1, page1)
    url = f"/api/v1/sessions/{sid}/events"

    response = await client.get(url, headers=tenant.headers)
    assert response.status == 200 and response.content_type == "application/json"
    assert (await response.json())["events"] == page0 + page1

    accept = {"Accept": "application/msgpack, application/json;q=0.9", **tenant.headers}
    response = await client.get(url, headers=accept)
    assert response.content_type == "application/msgpack"
    assert msgpack.unpackb(await response.read()) == {"events": page0 + page1, "missing": []}

    only_page1 = await client.get(url, params={"page": 1}, headers=tenant.headers)
    assert (await only_page1.json())["events"] == page1
    window = await client.get(url, params={"from_ms": 1200, "to_ms": 1900}, headers=tenant.headers)
    assert (await window.json())["events"] == [page0[1]]


@pytest.mark.parametrize(
    "params", [{"page": "-1"}, {"page": "x"}, {"from_ms": "two"}, {"from_ms": "5", "to_ms": "4"}]
)
async def test_events_invalid_parameters(
    client: Client, tenant: Tenant, add_session: AddSession, params: dict[str, str]
) -> None:
    sid = await add_session(tenant.site_id, ["https://a.example/"])
    response = await client.get(
        f"/api/v1/sessions/{sid}/events", params=params, headers=tenant.headers
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_parameter"
