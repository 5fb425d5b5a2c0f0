"""/api/v1/sites/{id}/stats over visits recorded through the real ingest path:
every figure equals a brute-force count from the visits themselves (on
SQLite and PostgreSQL); `insights rebuild` gives the same rollups as ingest
did; the `clicked=` session filter finds exactly the sessions that clicked."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from replay_server.db.engine import SessionFactory
from replay_server.db.models import PageView
from replay_server.db.rollup_tables import (
    InsightDay,
    InsightElement,
    InsightPage,
    InsightPoint,
    InsightScroll,
)
from replay_server.insights.rebuild import rebuild
from replay_server.settings import Settings
from replay_server.stores import open_blobs
from tests.browser import Client
from tests.conftest import MakeTenant
from tests.insights.visits import Action, Page, Visit, expected_stats, send
from tests.rrweb_events import now_ms

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
ORIGIN = "https://shop.example"
ROLLUPS = (InsightDay, InsightPage, InsightElement, InsightPoint, InsightScroll)


def visits() -> list[Visit]:
    returning = str(uuid.uuid4())
    google = "https://www.google.com/search?q=x"
    return [
        Visit(returning, "desktop", "GB", google, [
            Page("/", [Action("ok", 11), Action("rage", 11), Action("dead", 8)], 500, 4000),
            Page("/cart", [Action("error", 13), Action("ok", 15)], 0, 2000),
            Page("/", [Action("ok", 7)], 3000, 4000),
        ]),
        # the same visitor again that day, same client: not a new visitor
        Visit(returning, "desktop", "GB", google, [Page("/", [Action("dead", 9)], 0, 4000)]),
        Visit(str(uuid.uuid4()), "mobile", "US", "", [
            Page("/", [Action("ok", 11, 20, 500), Action("ok", 11, 20, 500)], 1000, 6000,
                 (390, 844)),
            Page("/checkout", [Action("dead", 11)], 0, 0, (390, 844)),
        ]),
        Visit(str(uuid.uuid4()), "mobile", "DE", "https://news.example/a", [
            Page("/cart", [Action("rage", 15, 30, 40)], 200, 1500, (390, 844)),
        ]),
        Visit(str(uuid.uuid4()), "desktop", "US", "https://www.bing.com/", [
            Page("/checkout"), Page("/cart", [Action("error", 11)]), Page("/checkout"),
        ]),
    ]  # fmt: skip


async def record(client: Client, db: SessionFactory, site_key: str) -> list[Visit]:
    recorded = visits()
    start = now_ms() - 10 * 60_000
    for visit in recorded:
        await send(client, site_key, ORIGIN, visit, start)
    expected = sum(len(v.pages) for v in recorded)
    for _ in range(400):  # cuts are stored in the background
        async with db() as s:
            counted = await s.scalar(select(func.count()).where(PageView.counted.is_(True)))
            clicks = await s.scalar(select(func.coalesce(func.sum(InsightPage.clicks), 0)))
        want = sum(
            3 if a.kind == "rage" else 1 for v in recorded for p in v.pages for a in p.actions
        )
        if counted == expected and clicks == want:
            return recorded
        await asyncio.sleep(0.05)
    raise AssertionError(f"page views counted: {counted} of {expected}; clicks {clicks} of {want}")


async def test_every_figure_equals_a_brute_force_count(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("stats", origin=ORIGIN)
    recorded = await record(client, db, tenant.site_key)
    response = await client.get(f"/api/v1/sites/{tenant.site_id}/stats", headers=tenant.headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    want = expected_stats(recorded)
    assert body["totals"] == want["totals"]
    assert body["pages"] == want["pages"]
    for name in ("referrers", "countries", "devices", "browsers"):
        assert body[name] == want[name], name
    assert body["frustration"] == want["frustration"]
    assert len(body["series"]) == 30
    today = body["series"][-1]
    assert (today["sessions"], today["visitors"], today["page_views"]) == (
        want["totals"]["sessions"],
        want["totals"]["visitors"],
        want["totals"]["page_views"],
    )
    assert all(d["sessions"] == 0 for d in body["series"][:-1])


async def test_filters_narrow_the_figures(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("filters", origin=ORIGIN)
    recorded = await record(client, db, tenant.site_key)
    url = f"/api/v1/sites/{tenant.site_id}/stats"
    mobile = await (
        await client.get(url, params={"device": "mobile"}, headers=tenant.headers)
    ).json()
    want = expected_stats([v for v in recorded if v.device == "mobile"])
    assert mobile["totals"] == want["totals"]
    assert mobile["pages"] == want["pages"]
    us = await (await client.get(url, params={"country": "us"}, headers=tenant.headers)).json()
    assert us["totals"] == expected_stats([v for v in recorded if v.country == "US"])["totals"]
    cart = await (
        await client.get(url, params={"url": "/cart", "url_match": "exact"}, headers=tenant.headers)
    ).json()
    assert [p["path"] for p in cart["pages"]] == ["/cart"]
    yesterday = await (
        await client.get(
            url, params={"from": now_ms() - 3 * 86_400_000, "to": now_ms() - 2 * 86_400_000},
            headers=tenant.headers,
        )
    ).json()  # fmt: skip
    assert yesterday["totals"]["sessions"] == 0 and yesterday["pages"] == []
    for bad in ({"device": "toaster"}, {"from": "soon"}, {"country": "GBR"}, {"url_match": "x"}):
        response = await client.get(url, params=bad, headers=tenant.headers)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_parameter"


async def test_another_organisations_site_is_not_found(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    mine = await make_tenant("mine", origin=ORIGIN)
    theirs = await make_tenant("theirs")
    for report in ("stats", "heatmap?url=/"):
        response = await client.get(
            f"/api/v1/sites/{theirs.site_id}/{report}", headers=mine.headers
        )
        assert response.status == 404


async def test_rebuild_gives_the_rollups_ingest_kept(
    client: Client, db: SessionFactory, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant("rebuild", origin=ORIGIN)
    await record(client, db, tenant.site_key)
    before = await rollup_rows(db)
    assert before[InsightPage.__tablename__] and before[InsightElement.__tablename__]
    async with open_blobs(settings) as blobs:
        report = await rebuild(db, blobs, tenant.site_id)
    assert report.sessions == len(visits()) and report.unreadable_chunks == 0
    assert await rollup_rows(db) == before


async def test_clicked_filter_finds_exactly_the_sessions_that_clicked_there(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("clicked", origin=ORIGIN)
    recorded = await record(client, db, tenant.site_key)
    url = f"/api/v1/sites/{tenant.site_id}/sessions"

    async def found(**params: str) -> set[str]:
        response = await client.get(url, params=params, headers=tenant.headers)
        assert response.status == 200, await response.text()
        return {s["id"] for s in (await response.json())["sessions"]}

    def clicked(node: int, path: str | None = None) -> set[str]:
        return {
            v.sid
            for v in recorded
            for p in v.pages
            if path is None or p.path == path
            for a in p.actions
            if a.node == node
        }

    assert await found(clicked="button#buy") == clicked(11)
    assert await found(clicked="button#buy", url="/", url_match="exact") == clicked(11, "/")
    assert await found(clicked="button#buy", url="/cart", url_match="exact") == clicked(11, "/cart")
    card = "html > body > main > div.card:nth-child(3) > button.add"
    assert await found(clicked=card) == clicked(15)
    assert await found(clicked="button#nothing") == set()


async def rollup_rows(db: SessionFactory) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {}
    async with db() as s:
        for model in ROLLUPS:
            table = model.__table__
            result = await s.execute(select(table).order_by(*table.primary_key.columns))
            rows[model.__tablename__] = [
                tuple(r) for r in result if any(r[len(table.primary_key.columns) :])
            ]
    return rows


async def test_a_path_longer_than_an_index_row_is_counted_under_its_start(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    """PostgreSQL indexes at most 2,704 bytes a row: a random 6,000-character
    path (incompressible) must not stop its page view or its chunks from
    being recorded (the page view keeps 2,000 bytes, the rollups 400 characters)."""
    tenant = await make_tenant("long-path", origin=ORIGIN)
    path = "/" + secrets.token_hex(3000)
    visit = Visit(str(uuid.uuid4()), "desktop", "GB", "", [Page(path, [Action("ok", 11)], 0, 4000)])
    await send(client, tenant.site_key, ORIGIN, visit, now_ms() - 60_000)
    for _ in range(200):
        async with db() as s:
            if await s.scalar(select(func.sum(InsightPage.clicks))) == 1:
                break
        await asyncio.sleep(0.05)
    stats = await client.get(f"/api/v1/sites/{tenant.site_id}/stats", headers=tenant.headers)
    pages = (await stats.json())["pages"]
    assert [(p["path"], p["views"], p["clicks"]) for p in pages] == [(path[:400], 1, 1)]
    heat = await client.get(  # the path as the stats name it
        f"/api/v1/sites/{tenant.site_id}/heatmap",
        params={"url": path[:400]},
        headers=tenant.headers,
    )
    body = await heat.json()
    assert body["page_views"] == 1 and body["elements"][0]["selector"] == "button#buy"
    assert body["snapshot"]["session_id"] == visit.sid
