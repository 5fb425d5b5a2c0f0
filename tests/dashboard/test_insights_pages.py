"""The insights pages (dashboard/insights.py): a site opens on its overview;
the overview and the heatmap render for the site's organisation only, name
their date range and filters for the scripts that draw them, link to each
other and to the sessions, and draw the recorded page under the player's
content policy."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from replay_server.web.middleware import PLAYER_CSP
from tests.browser import Client, login
from tests.conftest import Tenant

HTML = {"Accept": "text/html,application/xhtml+xml"}


def data_attrs(text: str, element_id: str) -> dict[str, str]:
    """The data-* attributes of the element with this id."""
    tag = re.search(rf'<div id="{element_id}"[^>]*>', text, re.S)
    assert tag is not None, f"no #{element_id}"
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0))}


def hrefs(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', text)]


async def test_a_site_opens_on_its_overview(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get(f"/sites/{tenant.site_id}", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/sites/{tenant.site_id}/overview"
    sites = await (await client.get("/")).text()
    assert f"/sites/{tenant.site_id}/overview" in hrefs(sites)
    assert f"/sites/{tenant.site_id}/sessions" in hrefs(sites)  # the sessions stay one click away
    sessions = await (await client.get(f"/sites/{tenant.site_id}/sessions")).text()
    assert f"/sites/{tenant.site_id}/overview" in hrefs(sessions)


async def test_overview_names_its_range_and_filters(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get(f"/sites/{tenant.site_id}/overview")
    text = await response.text()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = data_attrs(text, "overview")
    today = datetime.now(UTC).date()
    assert data["to"] in (today.isoformat(), (today - timedelta(days=1)).isoformat())
    start = datetime.fromisoformat(data["from"]).date()
    assert (datetime.fromisoformat(data["to"]).date() - start).days == 29  # the last 30 days
    assert data["site-id"] == str(tenant.site_id) and data["api-base"] == "/api/v1"
    assert '<script src="/static/player/overview.js" defer></script>' in text
    assert f"/sites/{tenant.site_id}/sessions" in hrefs(text)
    current = re.findall(r'<a [^>]*href="([^"]*)"[^>]*aria-current="true"', text)
    assert [html.unescape(h) for h in current] == [
        f"/sites/{tenant.site_id}/overview?from={data['from']}&to={data['to']}"
    ]  # "Last 30 days" is the range shown

    chosen = await client.get(
        f"/sites/{tenant.site_id}/overview",
        params={"from": "2026-01-01", "to": "2026-01-31", "device": "mobile", "country": "de"},
    )
    data = data_attrs(await chosen.text(), "overview")
    assert (data["from"], data["to"], data["device"]) == ("2026-01-01", "2026-01-31", "mobile")
    assert data["country"] == "de"  # the API normalises it as the session search does

    # A page narrows the page figures: it is in the form and handed to the stats API.
    page = await client.get(f"/sites/{tenant.site_id}/overview", params={"url": " /shop "})
    text = await page.text()
    assert data_attrs(text, "overview")["url"] == "/shop"
    assert re.search(r'<input [^>]*name="url"[^>]*value="/shop"', text)
    assert "pages containing" in text


async def test_bad_filters_are_refused(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    for path, params in (
        ("overview", {"from": "yesterday"}),
        ("overview", {"device": "fridge"}),
        ("overview", {"from": "2026-02-01", "to": "2026-01-01"}),
        ("overview", {"url": "/\x7f"}),
        ("heatmap", {"url": "/", "kind": "sound"}),
        ("heatmap", {"url": "/", "device": "bot"}),
        ("heatmap", {"url": "/\x01"}),
    ):
        response = await client.get(f"/sites/{tenant.site_id}/{path}", params=params, headers=HTML)
        assert response.status == 400, (path, params)


async def test_heatmap_page_draws_under_the_player_policy(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get(
        f"/sites/{tenant.site_id}/heatmap",
        params={
            "url": "/pricing?plan=<b>",
            "kind": "scroll",
            "device": "mobile",
            "to": "2026-03-01",
        },
    )
    text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == PLAYER_CSP
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "<b>" not in text and "/pricing?plan=&lt;b&gt;" in text
    data = data_attrs(text, "heatmap")
    assert (data["url"], data["kind"], data["device"], data["to"]) == (
        "/pricing?plan=<b>",
        "scroll",
        "mobile",
        "2026-03-01",
    )
    assert data["from"] == "2026-01-31"  # 30 days ending at `to`
    assert "os" not in data  # heatmaps are kept per device class and day only
    assert '<script src="/static/player/heatmap.js" defer></script>' in text
    # The switches keep the page and the range and change one thing each;
    # the quick ranges keep the page, kind and device class.
    links = [urlsplit(h) for h in hrefs(text) if h.startswith(f"/sites/{tenant.site_id}/heatmap")]
    queries = [parse_qs(s.query) for s in links]
    switches = [q for q in queries if q.get("to") == ["2026-03-01"]]
    kinds = {q["kind"][0] for q in switches if q.get("device") == ["mobile"]}
    devices = {q["device"][0] for q in switches if q.get("kind") == ["scroll"]}
    assert kinds == {"click", "scroll"} and devices == {"desktop", "tablet", "mobile"}
    assert all(q["url"] == ["/pricing?plan=<b>"] and q["from"] == ["2026-01-31"] for q in switches)
    ranges = [q for q in queries if q not in switches]
    assert len(ranges) == 3
    for q in ranges:
        assert (q["url"], q["kind"], q["device"]) == (["/pricing?plan=<b>"], ["scroll"], ["mobile"])
    # Back to the overview with the same range.
    assert any(h.startswith(f"/sites/{tenant.site_id}/overview?from=") for h in hrefs(text))


async def test_heatmap_without_a_page_asks_for_one(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get(f"/sites/{tenant.site_id}/heatmap")
    text = await response.text()
    assert response.status == 200
    assert 'id="heatmap"' not in text and "Which page?" in text


async def test_another_organisations_site_is_not_found(
    client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    await login(client, tenant.email, tenant.password)
    for path in ("overview", "heatmap?url=/"):
        response = await client.get(f"/sites/{other_tenant.site_id}/{path}", headers=HTML)
        assert response.status == 404, path
        assert "Site bob" not in await response.text()
    for path in ("overview", "heatmap?url=/", "x/overview"):
        response = await client.get(f"/sites/{path}", headers=HTML)
        assert response.status == 404, path


async def test_logged_out_insights_redirect_to_login(client: Client, tenant: Tenant) -> None:
    for path in (f"/sites/{tenant.site_id}/overview", f"/sites/{tenant.site_id}/heatmap?url=/"):
        response = await client.get(path, headers=HTML, allow_redirects=False)
        assert response.status == 302, path
        assert urlsplit(response.headers["Location"]).path == "/login"
