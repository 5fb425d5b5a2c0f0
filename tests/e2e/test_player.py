"""Issue 5's player in Chromium: markers for the clicks and page views of a
recorded session, `?t=` opening at the right moment (DOM state), skipping a
recorded idle gap, a corrupt chunk reported while the rest plays, and live
viewing of a session still recording."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Frame, Page

from tests.e2e.conftest import (
    Account,
    ClientSite,
    ServerProcess,
    api_get,
    create_account,
    wait_for,
)
from tests.procs import stored_chunk_path

pytestmark = pytest.mark.e2e

IDLE_SECONDS = 13  # above rrweb's 10 s inactivity threshold


def shop_page(server: ServerProcess, account: Account, title: str, next_href: str) -> str:
    return f"""<!doctype html>
<html><head><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <input id="email" type="email" placeholder="E-mail">
  <button id="add" onclick="
    var li = document.createElement('li');
    li.textContent = 'Item ' + (document.querySelectorAll('#items li').length + 1);
    document.getElementById('items').appendChild(li);">Add item</button>
  <ul id="items"></ul>
  <a id="next" href="{next_href}">Next page</a>
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""


async def open_recorded(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(400)
    return context, page


async def login(browser: Browser, server: ServerProcess, account: Account) -> Page:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit], input[type=submit]")
    await page.wait_for_url(f"{server.url}/")
    return page


async def replay_frame(page: Page) -> Frame:
    frame_el = await page.wait_for_selector(".replayer-wrapper iframe", state="attached")
    frame = await frame_el.content_frame()
    assert frame is not None
    return frame


async def wait_items(frame: Frame, count: int, timeout: float = 15_000) -> None:
    """Poll from here: the replay iframe runs no scripts, so in-frame polling never fires."""
    deadline = time.monotonic() + timeout / 1000
    while await items_in(frame) != count:
        assert time.monotonic() < deadline, f"never {count} items in the replay"
        await asyncio.sleep(0.05)


def clock(ms: float) -> str:
    """The player's clock format (m:ss) for an offset."""
    total = int(ms // 1000)
    return f"{total // 60}:{total % 60:02d}"


async def items_in(frame: Frame) -> int:
    count: int = await frame.evaluate("document.querySelectorAll('#items li').length")
    return count


async def test_markers_links_skipping_and_a_corrupt_chunk(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = shop_page(replay_server, account, "Shop home", "/second")
    client_site.pages["/second"] = shop_page(replay_server, account, "Second page", "/")

    context, visit = await open_recorded(browser, client_site.url + "/")
    await visit.fill("#email", "someone@example.org")
    for _ in range(2):
        await visit.click("#add")
        await visit.wait_for_timeout(200)
    await visit.wait_for_timeout(IDLE_SECONDS * 1000)  # the idle gap
    await visit.click("#add")
    await visit.wait_for_timeout(2000)
    await visit.click("#next")
    await visit.wait_for_selector("h1:text('Second page')")
    await visit.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await visit.wait_for_timeout(400)
    await visit.click("#add")
    await visit.wait_for_timeout(1200)
    await context.close()

    async def stored() -> dict | None:  # type: ignore[type-arg]
        _, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        sessions = body["sessions"]  # type: ignore[index]
        if not sessions:
            return None
        _, detail = await api_get(
            replay_server, account.token, f"/api/v1/sessions/{sessions[0]['id']}"
        )
        pages = {c["page"] for c in detail["chunks"]["items"]}  # type: ignore[index]
        return detail if pages == {0, 1} else None  # type: ignore[return-value]

    detail = await wait_for(stored, timeout=30)
    sid = detail["id"]
    _, body = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}/events")
    events = body["events"]  # type: ignore[index]
    start = events[0]["timestamp"]
    clicks = [
        e for e in events if e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2
    ]
    assert len(clicks) == 5  # four "Add item", one link

    player = await login(browser, replay_server, account)
    errors: list[str] = []
    player.on("pageerror", lambda e: errors.append(str(e)))

    # Markers for every click and page view; the event list names fields, never values.
    await player.goto(f"{replay_server.url}/sessions/{sid}?t=0")
    await player.wait_for_selector("html[data-loaded=true]", state="attached", timeout=15_000)
    assert await player.locator(".marker-lane .marker-click").count() == 5
    assert await player.locator(".event-list li[data-kind=page]").count() == 2
    assert await player.locator(".event-list li[data-kind=input]").count() >= 1
    texts = await player.locator(".event-list").inner_text()
    assert "Typed in input#email" in texts and "someone@example.org" not in texts
    assert "Click on “Add item”" in texts
    title = await player.locator(".marker-lane .marker-click").first.get_attribute("title")
    assert title is not None and title.startswith("Click on")
    # Clicking the third click's marker jumps to that click: the clock shows its
    # moment and the page is as it was then (its own item lands within a few ms,
    # so 2 or 3 items depending on how the recording timed the mutation).
    await player.locator(".marker-lane .marker-click").nth(2).click()
    frame = await replay_frame(player)
    at_click = clock(clicks[2]["timestamp"] - start)
    deadline = time.monotonic() + 10
    while not (await player.locator("span.time").inner_text()).startswith(at_click + " /"):
        assert time.monotonic() < deadline, "the clock never showed the click's moment"
        await asyncio.sleep(0.05)
    assert await items_in(frame) in (2, 3)
    assert await player.locator(".activity-gap").count() >= 1  # the idle gap, shown as skipped

    # ?t= opens at that moment: just after the second click, before the third.
    third = clicks[2]["timestamp"]
    t = (clicks[1]["timestamp"] - start + 1500) / 1000
    await player.goto(f"{replay_server.url}/sessions/{sid}?t={t:.1f}")
    frame = await replay_frame(player)
    await wait_items(frame, 2)
    await player.wait_for_timeout(500)
    assert await items_in(frame) == 2  # paused there

    # Skip inactivity (on by default) crosses the 13 s idle gap in a few seconds.
    began = time.monotonic()
    await player.keyboard.press("Space")
    await wait_items(frame, 3, timeout=6_000)
    assert time.monotonic() - began < (third - clicks[1]["timestamp"]) / 1000 - 5
    assert errors == []

    # A corrupt chunk of the second page: a notice, and the first page still plays.
    second = [c for c in detail["chunks"]["items"] if c["page"] == 1]
    blob = corrupt_blob(replay_server.data_dir, sid, second[0]["idx"])
    assert blob.exists()
    # A new browser context: the player's context keeps the intact blob (chunk URLs are immutable).
    await player.context.close()
    player = await login(browser, replay_server, account)
    await player.goto(f"{replay_server.url}/sessions/{sid}?t={t:.1f}")
    await player.wait_for_selector(".notice", timeout=15_000)
    notice = await player.locator(".notices").inner_text()
    assert "page 2 is missing" in notice
    frame = await replay_frame(player)
    await wait_items(frame, 2)
    await player.wait_for_selector("html[data-loaded=true]", state="attached")
    assert await player.locator(".event-list li[data-kind=notice]").count() >= 1
    await player.context.close()


def corrupt_blob(data_dir: Path, sid: str, idx: int) -> Path:
    """Overwrite the middle of a stored chunk (found through its row) with garbage."""
    path = stored_chunk_path(data_dir, sid, idx)
    data = path.read_bytes()
    path.write_bytes(data[:5] + b"\x00garbage" + data[13:])
    return path


async def test_live_view_follows_the_recording(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = shop_page(replay_server, account, "Live shop", "/")
    context, visit = await open_recorded(browser, client_site.url + "/")
    sid = await visit.evaluate("window.ReplayRecorder.sessionId()")

    async def listed_live() -> bool:
        _, detail = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}")
        return isinstance(detail, dict) and detail.get("live") is True

    await wait_for(listed_live, timeout=20)
    player = await login(browser, replay_server, account)
    await player.goto(f"{replay_server.url}/sessions/{sid}")
    await player.wait_for_selector("html[data-live=true]", state="attached", timeout=15_000)
    assert await player.locator(".badge-live:visible").count() >= 1
    frame = await replay_frame(player)
    await frame.wait_for_selector("#add", state="attached")

    await visit.click("#add")
    clicked = time.monotonic()
    await wait_items(frame, 1, timeout=3_000)
    assert time.monotonic() - clicked <= 3.0
    # The event list follows along, and its count says so.
    await player.wait_for_selector(".event-list li[data-kind=click]", state="attached")
    count = await player.locator("h2.side-title:has-text('Events') .side-note").inner_text()
    assert int(count) >= 1
    await context.close()
    await player.context.close()
