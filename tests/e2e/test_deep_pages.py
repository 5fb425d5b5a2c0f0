"""Deep pages, recorded by the real recorder in Chromium (issue 13, item 1):
a page nested ~180 elements deep is stored and replays whole; one nested 400
deep (past REPLAY_MAX_TREE_DEPTH, within what the HTML parser builds) is
stored with its deepest nodes pruned, and the rest of it replays."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.e2e.conftest import (
    Account,
    ClientSite,
    ServerProcess,
    api_get,
    create_account,
    wait_for,
)

pytestmark = pytest.mark.e2e


def deep_page(server: ServerProcess, account: Account, depth: int) -> str:
    nested = "<div class=d>" * depth + f"<b id=deepest>Depth {depth}</b>" + "</div>" * depth
    return f"""<!doctype html>
<html><head><title>Deep {depth}</title></head>
<body>
  <button id="add" onclick="
    var p = document.createElement('p'); p.className = 'added';
    p.textContent = 'Added after the snapshot';
    document.body.insertBefore(p, document.body.firstChild);">Add</button>
  {nested}
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""


async def record(browser: Browser, url: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(500)
    await page.click("#add")
    await page.wait_for_timeout(1500)
    await context.close()
    assert errors == []


async def replayed_texts(
    browser: Browser, server: ServerProcess, account: Account, sid: str, selector: str
) -> list[str]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{server.url}/login?next=/sessions/{sid}")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit], input[type=submit]")
    await page.wait_for_url(f"**/sessions/{sid}")
    await page.goto(f"{server.url}/sessions/{sid}?t=60")
    frame_el = await page.wait_for_selector("iframe")
    frame = await frame_el.content_frame()
    assert frame is not None

    async def texts() -> list[str] | None:
        found: list[str] = await frame.eval_on_selector_all(
            selector, "els => els.map(e => e.textContent)"
        )
        return found or None

    try:
        return list(await wait_for(texts, timeout=10))
    finally:
        await context.close()


@pytest.mark.parametrize("depth", [180, 400])
async def test_a_deep_page_is_recorded_stored_and_replayed(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser, depth: int
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/deep"] = deep_page(replay_server, account, depth)
    await record(browser, client_site.url + "/deep")

    async def stored_events() -> list | None:  # type: ignore[type-arg]
        _, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        sessions = body["sessions"]  # type: ignore[index]
        if not sessions:
            return None
        sid = sessions[0]["id"]
        _, read = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}/events")
        events = read["events"]  # type: ignore[index]
        text = repr(events)
        return [sid, events] if "Added after the snapshot" in text else None

    sid, events = await wait_for(stored_events)
    snapshot = repr([e for e in events if e["type"] == 2])
    if depth <= 240:
        assert f"Depth {depth}" in snapshot and "data-rs-pruned" not in snapshot
        deepest = await replayed_texts(browser, replay_server, account, sid, "#deepest")
        assert deepest == [f"Depth {depth}"]
    else:
        assert f"Depth {depth}" not in snapshot and "data-rs-pruned" in snapshot
    added = await replayed_texts(browser, replay_server, account, sid, "p.added")
    assert added == ["Added after the snapshot"]
