"""/api/v1/sites/{id}/heatmap over visits recorded through the real ingest
path: the click map counts each element's clicks by its selector and places
them in 16 px cells of the page; the scroll map gives the share of page views
that reached each depth (brute-force counts from the visits); `snapshot`
names a stored recording of the page at that device class."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from replay_server.db.engine import SessionFactory
from tests.browser import Client
from tests.conftest import MakeTenant
from tests.insights.test_stats import ORIGIN, record
from tests.insights.visits import SELECTORS, Visit, action_counts

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)


def views_of(visits: list[Visit], path: str, device: str) -> list[tuple[Visit, int]]:
    return [
        (v, i)
        for v in visits
        if v.device == device
        for i, p in enumerate(v.pages)
        if p.path == path
    ]


@pytest.mark.parametrize("device", ["desktop", "mobile"])
async def test_click_map(
    client: Client, db: SessionFactory, make_tenant: MakeTenant, device: str
) -> None:
    tenant = await make_tenant(f"clicks-{device}", origin=ORIGIN)
    recorded = await record(client, db, tenant.site_key)
    body = await heatmap(client, tenant, url="/", kind="click", device=device)
    views = views_of(recorded, "/", device)
    assert body["page_views"] == len(views)
    want: dict[str, Counter[str]] = {}
    cells: Counter[tuple[int, int]] = Counter()
    for visit, index in views:
        for action in visit.pages[index].actions:
            want.setdefault(SELECTORS[action.node], Counter()).update(action_counts([action]))
            n = 3 if action.kind == "rage" else 1
            cells[(action.x // 16 * 16 + 8, action.y // 16 * 16 + 8)] += n
    got = {e["selector"]: e for e in body["elements"]}
    assert set(got) == set(want)
    for selector, counts in want.items():
        for name in ("clicks", "rage_clicks", "dead_clicks", "error_clicks"):
            assert got[selector][name] == counts[name], (selector, name)
    assert {(p["x"], p["y"]): p["count"] for p in body["points"]} == dict(cells)
    snapshot = body["snapshot"]
    assert snapshot is not None
    assert snapshot["session_id"] in {v.sid for v, _ in views}
    visit = next(v for v, _ in views if v.sid == snapshot["session_id"])
    assert visit.pages[snapshot["page"]].path == "/"
    assert [snapshot["width"], snapshot["height"]] == list(visit.pages[snapshot["page"]].viewport)
    first, last = visit.spans[snapshot["page"]]
    assert first <= snapshot["ts"] <= last


@pytest.mark.parametrize(
    ("path", "device"), [("/", "desktop"), ("/", "mobile"), ("/cart", "mobile")]
)
async def test_scroll_map(
    client: Client, db: SessionFactory, make_tenant: MakeTenant, path: str, device: str
) -> None:
    tenant = await make_tenant(f"scroll-{device}-{path.strip('/')}", origin=ORIGIN)
    recorded = await record(client, db, tenant.site_key)
    body = await heatmap(client, tenant, url=f"{ORIGIN}{path}", kind="scroll", device=device)
    pages = [v.pages[i] for v, i in views_of(recorded, path, device)]
    # deepest bottom (scroll offset + viewport height) as a percent of the page height
    depths = [min(100, (p.scroll_y + p.viewport[1]) * 100 // p.height) for p in pages if p.height]
    assert body["page_views"] == len(depths)
    for row in body["depths"]:
        reached = sum(d >= row["percent"] for d in depths)
        assert row["reached"] == reached, row
        assert row["share"] == round(reached / len(depths), 4)
    assert [r["percent"] for r in body["depths"]] == list(range(0, 101, 5))
    folds = [p.viewport[1] for p in pages]
    assert body["fold_px"] == sum(folds) // len(folds)


async def test_heatmap_parameters_are_checked(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("heatmap-params", origin=ORIGIN)
    url = f"/api/v1/sites/{tenant.site_id}/heatmap"
    for bad in ({}, {"url": "/", "kind": "hover"}, {"url": "/", "device": "bot"},
                {"url": "/", "from": "yesterday"}, {"url": "/" + "x" * 3000}):  # fmt: skip
        response = await client.get(url, params=bad, headers=tenant.headers)
        assert response.status == 400, bad
        assert (await response.json())["error"]["code"] == "invalid_parameter"
    empty = await heatmap(client, tenant, url="/nothing-here")
    assert empty["page_views"] == 0 and empty["elements"] == [] and empty["snapshot"] is None


async def heatmap(client: Client, tenant: Any, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/sites/{tenant.site_id}/heatmap", params=params, headers=tenant.headers
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body
