"""Session search: every filter alone and combined, every sort with keyset
pagination, checked against a brute-force expectation computed in Python over
the same seeded sessions. Runs on SQLite and (with REPLAY_TEST_POSTGRES_URL)
PostgreSQL."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from replay_server.db import search
from replay_server.db.engine import SessionFactory
from replay_server.db.models import PageView, RecordedSession
from replay_server.db.search_ddl import url_rest
from replay_server.enrich.visitmeta import url_path
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.conftest import Tenant

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)

HOST = "https://shop.example"
PATHS = [
    "/",
    "/cart",
    "/checkout",
    "/checkout/pay",
    "/Search?q=Checkout",
    "/products/blue-widget-42",
    "/products/red-widget-7",
    "/100%_off",
    "/a_b/c",
    "/account/orders",
]
BROWSERS = ["Chrome", "Firefox", "Mobile Safari", "Edge"]
OSES = ["Windows", "Mac OS X", "iOS", "Android"]
DEVICES = ["desktop", "mobile", "tablet"]
COUNTRIES = ["DE", "US", "GB", ""]
REFERRERS = ["google.com", "news.example", ""]
DAY = 86_400_000


@dataclass
class Seeded:
    site_id: int
    now: int
    rows: list[dict[str, Any]]  # each session's columns plus "urls"


async def seed(db: SessionFactory, site_id: int, n: int, seed_value: int) -> Seeded:
    rng = random.Random(seed_value)
    now = now_ms()
    visitors = [str(uuid.uuid4()) for _ in range(8)]
    rows: list[dict[str, Any]] = []
    sessions, views = [], []
    for i in range(n):
        started = now - rng.randrange(0, 20 * DAY) if i % 9 else now - 5 * DAY  # some ties
        live = i % 11 == 0
        urls = [HOST + rng.choice(PATHS) for _ in range(rng.randint(1, 4))]
        row = {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "site_id": site_id,
            "visitor_id": rng.choice(visitors),
            "started_ms": started,
            "last_seen_ms": now - 10_000 if live else started + 60_000,
            "ended_ms": None if live else started + 60_000,
            "duration_ms": rng.choice([0, 5000, 30_000, 60_000, 300_000]),
            "active_ms": rng.choice([0, 1000, 20_000, 45_000]),
            "page_count": len(urls),
            "entry_url": urls[0],
            "exit_url": urls[-1],
            "browser": rng.choice(BROWSERS),
            "os": rng.choice(OSES),
            "device": rng.choice(DEVICES),
            "country": rng.choice(COUNTRIES),
            "referrer_domain": rng.choice(REFERRERS),
            "error_count": rng.choice([0, 0, 0, 2]),
            "rage_click_count": rng.choice([0, 0, 1]),
            "dead_click_count": rng.choice([0, 0, 3]),
        }
        rows.append({**row, "urls": urls})
        sessions.append(RecordedSession(**row))
        views.extend(
            PageView(
                session_id=row["id"],
                page=p,
                site_id=site_id,
                url=u,
                path=url_path(u),
                title="",
                started_ms=started + p,
            )
            for p, u in enumerate(urls)
        )
    async with db() as s:
        s.add_all(sessions)
        await s.flush()
        s.add_all(views)
        await s.commit()
    return Seeded(site_id, now, rows)


def _flag(value: str) -> bool:
    return value in ("true", "1", "yes")


def _url_ok(row: dict[str, Any], url: str, match: str) -> bool:
    for u in row["urls"]:
        target = url_path(u) if url.startswith("/") else u
        haystack = u if "://" in url else url_rest(u)  # contains: after the host
        if match == "contains" and url.lower() in haystack.lower():
            return True
        if match == "exact" and target == url:
            return True
        if match == "prefix" and target.startswith(url):
            return True
    return False


def expected(data: Seeded, params: dict[str, str]) -> list[str]:
    """The brute force: filter and sort every seeded row in Python."""
    out = []
    for r in data.rows:
        live = r["ended_ms"] is None and r["last_seen_ms"] >= data.now - 90_000
        checks = [
            not params.get("url") or _url_ok(r, params["url"], params.get("url_match", "contains")),
            "from" not in params or r["started_ms"] >= int(params["from"]),
            "to" not in params or r["started_ms"] <= int(params["to"]),
            "min_duration" not in params or r["duration_ms"] >= int(params["min_duration"]) * 1000,
            "max_duration" not in params or r["duration_ms"] <= int(params["max_duration"]) * 1000,
            "browser" not in params or r["browser"] == params["browser"],
            "os" not in params or r["os"] == params["os"],
            "device" not in params or r["device"] == params["device"],
            "country" not in params or r["country"] == params["country"].upper(),
            "referrer" not in params or r["referrer_domain"] == params["referrer"],
            "visitor" not in params or r["visitor_id"] == params["visitor"],
            "has_errors" not in params or (r["error_count"] > 0) == _flag(params["has_errors"]),
            "has_rage_clicks" not in params
            or (r["rage_click_count"] > 0) == _flag(params["has_rage_clicks"]),
            "has_dead_clicks" not in params
            or (r["dead_click_count"] > 0) == _flag(params["has_dead_clicks"]),
            "live" not in params or live == _flag(params["live"]),
        ]
        if all(checks):
            out.append(r)
    key = {"newest": "started_ms", "longest": "duration_ms", "most_active": "active_ms"}[
        params.get("sort", "newest")
    ]
    out.sort(key=lambda r: (r[key], r["id"]), reverse=True)
    return [r["id"] for r in out]


async def fetch_all(client: Client, tenant: Tenant, params: dict[str, str]) -> list[str]:
    """Every page of the search through the API, following next_cursor."""
    ids: list[str] = []
    cursor = ""
    for _ in range(100):
        query = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/v1/sites/{tenant.site_id}/sessions", params=query, headers=tenant.headers
        )
        assert response.status == 200, await response.text()
        body = await response.json()
        ids.extend(s["id"] for s in body["sessions"])
        if body["next_cursor"] is None:
            return ids
        cursor = body["next_cursor"]
    raise AssertionError("pagination did not end")


def queries(data: Seeded) -> list[dict[str, str]]:
    visitor = data.rows[3]["visitor_id"]
    mid = data.now - 10 * DAY
    return [
        {},
        {"url": "checkout"},
        {"url": "CHECKOUT"},
        {"url": "widget"},
        {"url": "ou"},  # too short for the trigram index
        {"url": "%_"},
        {"url": "a_b"},
        {"url": "nothing-matches-this"},
        {"url": "shop.example"},  # only in hosts: contains looks after the host
        {"url": "https://shop.example/Check"},  # with a scheme: the whole URL
        {"url": "example/cart"},
        {"url": "/checkout", "url_match": "prefix"},
        {"url": "/c", "url_match": "prefix"},
        {"url": HOST + "/products/", "url_match": "prefix"},
        {"url": "/cart", "url_match": "exact"},
        {"url": HOST + "/checkout", "url_match": "exact"},
        {"from": str(mid)},
        {"to": str(mid)},
        {"from": str(mid - 3 * DAY), "to": str(mid + 3 * DAY)},
        {"min_duration": "30"},
        {"max_duration": "30"},
        {"min_duration": "5", "max_duration": "60"},
        {"browser": "Firefox"},
        {"os": "iOS"},
        {"device": "mobile"},
        {"country": "de"},
        {"referrer": "google.com"},
        {"visitor": visitor},
        {"has_errors": "true"},
        {"has_errors": "false"},
        {"has_rage_clicks": "true"},
        {"has_dead_clicks": "yes"},
        {"live": "true"},
        {"live": "false"},
        {"sort": "longest"},
        {"sort": "most_active"},
        {"url": "checkout", "browser": "Chrome", "min_duration": "30"},
        {"url": "/products", "url_match": "prefix", "from": str(mid), "sort": "longest"},
        {"device": "mobile", "country": "US", "has_rage_clicks": "true", "sort": "most_active"},
        {"os": "Android", "has_errors": "true", "live": "false", "to": str(mid)},
        {"visitor": visitor, "url": "widget", "sort": "longest"},
    ]


async def test_filters_alone_and_combined_match_brute_force(
    client: Client, tenant: Tenant, other_tenant: Tenant, db: SessionFactory
) -> None:
    data = await seed(db, tenant.site_id, 150, 1)
    await seed(db, other_tenant.site_id, 40, 2)  # never visible to tenant
    sizes = []
    for params in queries(data):
        want = expected(data, params)
        assert await fetch_all(client, tenant, params) == want, params
        sizes.append(len(want))
    # the fixture is discriminating: most searches keep some sessions and drop others
    assert sum(1 for n in sizes if 0 < n < len(data.rows)) >= len(sizes) - 6, sizes


async def test_both_url_search_plans_agree(
    client: Client, tenant: Tenant, db: SessionFactory
) -> None:
    """Few matches: ids first via the URL index; many: a scan in sort order.
    Both give the brute-force answer."""
    data = await seed(db, tenant.site_id, 80, 3)
    for params in queries(data):
        if not params.get("url"):
            continue
        for limit in (5, 200):
            query = search.SessionQuery(
                url=params["url"],
                url_match=params.get("url_match", "contains"),
                started_from=int(params["from"]) if "from" in params else None,
                browser=params.get("browser", ""),
                visitor=params.get("visitor", ""),
                min_duration_ms=(
                    int(params["min_duration"]) * 1000 if "min_duration" in params else None
                ),
                sort=params.get("sort", "newest"),
                limit=limit,
            )
            want = expected(data, params)[:limit]
            for cap, probe in ((0, 0), (1, 0), (10_000, 0), (10_000, 5), (10_000, 1000)):
                async with db() as s:
                    page = await search.search_sessions(
                        s, tenant.site_id, query, data.now, candidate_cap=cap, probe_rows=probe
                    )
                assert [x.id for x in page.sessions] == want, (params, limit, cap, probe)


async def test_iso_dates_cover_whole_days(
    client: Client, tenant: Tenant, db: SessionFactory
) -> None:
    data = await seed(db, tenant.site_id, 60, 4)
    day = datetime.fromtimestamp((data.now - 5 * DAY) / 1000, tz=UTC).date()
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    got = await fetch_all(client, tenant, {"from": day.isoformat(), "to": day.isoformat()})
    assert got == expected(data, {"from": str(start), "to": str(start + DAY - 1)})
    assert got  # every 9th session starts exactly five days ago


@pytest.mark.parametrize(
    "params",
    [
        {"url_match": "regex"},
        {"sort": "oldest"},
        {"from": "yesterday"},
        {"from": "2026-13-01"},
        {"from": "2026-01-02", "to": "2026-01-01"},
        {"min_duration": "-1"},
        {"min_duration": "1.5"},
        {"min_duration": "60", "max_duration": "30"},
        {"device": "fridge"},
        {"country": "Germany"},
        {"has_errors": "maybe"},
        {"live": "2"},
        {"url": "x" * 2001},
        {"browser": "Chrome\x00"},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": "!!"},
        {"sort": "longest", "cursor": search.SessionCursor("newest", 1, "x").encode()},
    ],
)
async def test_invalid_parameters_are_400(
    client: Client, tenant: Tenant, params: dict[str, str]
) -> None:
    response = await client.get(
        f"/api/v1/sites/{tenant.site_id}/sessions", params=params, headers=tenant.headers
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_parameter"
