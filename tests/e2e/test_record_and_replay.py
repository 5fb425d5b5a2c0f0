"""Issue 2's end-to-end path: a visitor on a client site is recorded, the
session is stored and listed, and staff replay it in the dashboard."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser

from replay_server.chunks.format import decompress_chunk
from tests.e2e.conftest import (
    Account,
    ClientSite,
    ServerProcess,
    api_get,
    create_account,
    wait_for,
)

pytestmark = pytest.mark.e2e

SECRET_TEXT = "Zebra-Quokka-4417"
SECRET_EMAIL = "jane.doe.secret@example.org"
SECRET_PASSWORD = "hunter2-Sup3rSecret"


def first_page(server: ServerProcess, account: Account) -> str:
    return f"""<!doctype html>
<html><head><title>Shop home</title></head>
<body>
  <h1>Welcome to the shop</h1>
  <form onsubmit="return false">
    <input id="name" type="text" placeholder="Name">
    <input id="email" type="email" placeholder="E-mail">
    <input id="password" type="password" placeholder="Password">
    <textarea id="notes"></textarea>
  </form>
  <button id="add" onclick="
    var li = document.createElement('li');
    li.textContent = 'Item ' + (document.querySelectorAll('#items li').length + 1);
    document.getElementById('items').appendChild(li);">Add item</button>
  <ul id="items"></ul>
  <div style="height: 3000px">tall content</div>
  <a id="next" href="/second">Second page</a>
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""


def second_page(server: ServerProcess, account: Account) -> str:
    return f"""<!doctype html>
<html><head><title>Second page</title></head>
<body>
  <h2 id="second">This is the second page</h2>
  <button id="more" onclick="
    var p = document.createElement('p'); p.className = 'added';
    p.textContent = 'Added on page two';
    document.body.appendChild(p);">More</button>
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""


async def record_visit(browser: Browser, client_site: ClientSite) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(client_site.url + "/")
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(500)
    await page.fill("#name", SECRET_TEXT)
    await page.fill("#email", SECRET_EMAIL)
    await page.fill("#password", SECRET_PASSWORD)
    await page.fill("#notes", SECRET_TEXT + " notes")
    for _ in range(3):
        await page.click("#add")
        await page.wait_for_timeout(150)
    await page.mouse.wheel(0, 1200)
    await page.wait_for_timeout(1500)
    await page.click("#next")
    await page.wait_for_selector("#second")
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(500)
    await page.click("#more")
    await page.wait_for_timeout(1500)
    await context.close()
    assert errors == []


def stored_bytes(data_dir: Path) -> bytes:
    """Everything the server keeps: decompressed chunks, spool, database."""
    parts = []
    for blob in (data_dir / "blobs").rglob("*.rsc"):
        parts.append(decompress_chunk(blob.read_bytes()))
    for spool in (data_dir / "spool").glob("*.spool"):
        parts.append(spool.read_bytes())
    with sqlite3.connect(data_dir / "replay.db") as db:
        parts.extend(line.encode() for line in db.iterdump())
    return b"\n".join(parts)


async def test_record_list_and_replay(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = first_page(replay_server, account)
    client_site.pages["/second"] = second_page(replay_server, account)

    await record_visit(browser, client_site)

    async def session_with_two_pages() -> dict | None:  # type: ignore[type-arg]
        status, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        assert status == 200, body
        sessions = body["sessions"]  # type: ignore[index]
        return sessions[0] if sessions and sessions[0]["page_count"] == 2 else None

    listed = await wait_for(session_with_two_pages)
    sid = listed["id"]
    status, detail = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}")
    assert status == 200
    assert [p["url"] for p in detail["pages"]] == [  # type: ignore[index]
        client_site.url + "/",
        client_site.url + "/second",
    ]

    async def events_of_both_pages() -> list | None:  # type: ignore[type-arg]
        _, body = await api_get(replay_server, account.token, f"/api/v1/sessions/{sid}/events")
        events = body["events"]  # type: ignore[index]
        full = [e for e in events if e["type"] == 2]
        added = b"Added on page two" in repr(events).encode()
        return events if len(full) == 2 and added else None

    events = await wait_for(events_of_both_pages)
    metas = [e["data"]["href"] for e in events if e["type"] == 4]
    assert metas[0] == client_site.url + "/" and metas[-1] == client_site.url + "/second"

    everything = stored_bytes(replay_server.data_dir)
    for secret in (SECRET_TEXT, SECRET_EMAIL, SECRET_PASSWORD):
        assert secret.encode() not in everything, f"{secret} was stored"
    assert b"Item 3" in everything  # the recording itself is there

    # The player, logged in, rebuilds the page at ?t= near the end.
    second_meta = [e["timestamp"] for e in events if e["type"] == 4][1]
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(f"{replay_server.url}/login?next=/sessions/{sid}")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit], input[type=submit]")
    await page.wait_for_url(f"**/sessions/{sid}")

    start = events[0]["timestamp"]
    t_page_one = (second_meta - start - 400) / 1000  # just before the navigation
    await page.goto(f"{replay_server.url}/sessions/{sid}?t={t_page_one:.1f}")
    frame_el = await page.wait_for_selector("iframe")
    sandbox = await frame_el.get_attribute("sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox
    frame = await frame_el.content_frame()
    assert frame is not None

    # The replay iframe runs no scripts, so Playwright's in-page polling never
    # re-runs there: poll from here instead.
    async def texts(selector: str) -> list[str]:
        found: list[str] = await frame.eval_on_selector_all(
            selector, "els => els.map(e => e.textContent)"
        )
        return found

    items = await wait_for(lambda: _when(texts("#items li"), lambda v: len(v) == 3), timeout=10)
    assert items == ["Item 1", "Item 2", "Item 3"]

    # Past the last event (the detail's duration may predate the last chunk).
    t_end = (events[-1]["timestamp"] - start) / 1000 + 1
    await page.goto(f"{replay_server.url}/sessions/{sid}?t={t_end:.1f}")
    frame_el = await page.wait_for_selector("iframe")
    frame = await frame_el.content_frame()
    assert frame is not None
    added = await wait_for(lambda: _when(texts("p.added"), bool), timeout=10)
    assert added == ["Added on page two"]
    assert errors == [] and dialogs == []
    await context.close()


async def _when(values: Awaitable[list[str]], ok: Callable[[list[str]], bool]) -> list[str] | None:
    found = await values
    return found if ok(found) else None
