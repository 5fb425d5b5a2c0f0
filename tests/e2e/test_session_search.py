"""The session list's filter form round-trips through the URL in Chromium:
submitting puts the filters in the query string (a shareable link), reloading
and the back button bring the same search and form back, a row opens the player."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from playwright.async_api import Browser

from tests.e2e.conftest import ServerProcess, create_account
from tests.rrweb_events import now_ms, page_events

pytestmark = pytest.mark.e2e

ORIGIN = "http://shop.test"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


async def record(server: ServerProcess, site_key: str, user_agent: str, paths: list[str]) -> str:
    """A session through the public ingest endpoint, one page per path."""
    sid = str(uuid.uuid4())
    start = now_ms() - 60_000
    async with aiohttp.ClientSession() as http:
        for page, path in enumerate(paths):
            hello: dict[str, Any] = {
                "t": "hello",
                "v": 1,
                "site": site_key,
                "sid": sid,
                "vid": str(uuid.uuid4()),
                "page": page,
                "url": ORIGIN + path,
                "referrer": "",
                "title": path,
                "clock": now_ms(),
            }
            batch = {"seq": page, "page": page, "events": page_events(start + 5000 * page)}
            async with http.post(
                f"{server.url}/ingest/batch",
                data=json.dumps({"hello": hello, "batches": [batch]}),
                headers={"Origin": ORIGIN, "Content-Type": "text/plain", "User-Agent": user_agent},
            ) as response:
                assert response.status == 200, await response.text()
    return sid


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def test_filter_form_round_trips_through_the_url(
    replay_server: ServerProcess, browser: Browser
) -> None:
    account = create_account(replay_server, ORIGIN)
    phone_checkout = await record(replay_server, account.site_key, IPHONE, ["/", "/checkout/pay"])
    desktop_checkout = await record(replay_server, account.site_key, DESKTOP, ["/checkout"])
    phone_about = await record(replay_server, account.site_key, IPHONE, ["/about"])

    context = await browser.new_context()
    page = await context.new_page()
    sessions_path = f"/sites/{account.site_id}/sessions"
    await page.goto(f"{replay_server.url}/login?next={sessions_path}")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{sessions_path}")
    for sid in (phone_checkout, desktop_checkout, phone_about):
        assert await page.locator(f'tr[data-session-id="{sid}"]').count() == 1

    # a search by URL prefix plus a device from the "More filters" panel
    await page.select_option("#filter-url_match", "prefix")
    await page.fill("#filter-url", "/checkout")
    await page.click("details.search-more summary")
    await page.select_option("#filter-device", "mobile")
    await page.select_option("#filter-sort", "longest")
    await page.click("#session-search button[type=submit]")
    await page.wait_for_url("**device=mobile**")
    searched_url = page.url
    assert query_of(searched_url) == {  # empty fields are left out of the link
        "url_match": ["prefix"],
        "url": ["/checkout"],
        "sort": ["longest"],
        "device": ["mobile"],
    }
    rows = page.locator("tr[data-session-id]")
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-session-id") == phone_checkout

    # the link is shareable: a fresh page on it shows the same search and form
    other = await context.new_page()
    await other.goto(searched_url)
    assert await other.input_value("#filter-url") == "/checkout"
    assert await other.input_value("#filter-url_match") == "prefix"
    assert await other.input_value("#filter-device") == "mobile"
    assert await other.input_value("#filter-sort") == "longest"
    assert await other.locator("details.search-more").get_attribute("open") is not None
    assert await other.locator("tr[data-session-id]").count() == 1
    await other.close()

    # a second search, then Back restores the first one
    await page.fill("#filter-url", "about")
    await page.select_option("#filter-url_match", "contains")
    await page.click("#session-search button[type=submit]")
    await page.wait_for_url("**url=about**")
    assert await page.locator(f'tr[data-session-id="{phone_about}"]').count() == 1
    await page.go_back()
    await page.wait_for_url(searched_url)
    assert await page.input_value("#filter-url") == "/checkout"
    assert await page.input_value("#filter-device") == "mobile"
    assert await page.locator("tr[data-session-id]").count() == 1

    # a row opens the player
    await page.click(f'tr[data-session-id="{phone_checkout}"] a.row-link')
    await page.wait_for_url(f"**/sessions/{phone_checkout}")
    await context.close()
