"""XSS in Chromium: a client page full of script, event-handler attributes,
javascript: links and a title full of markup is recorded through the real
recorder (plus a hostile recorder sending raw markup as URL, referrer and
title), then listed and replayed in the dashboard. No dialog may open and no
payload may run in the dashboard's origin: the replay lives only in the iframe
sandboxed without allow-scripts, and every piece of metadata is escaped."""

from __future__ import annotations

import json
import time
import uuid

import aiohttp
import pytest
from playwright.async_api import Browser, Dialog, Page, Request

from tests.e2e.conftest import (
    ClientSite,
    ServerProcess,
    api_get,
    create_account,
    wait_for,
)

pytestmark = pytest.mark.e2e

MARKUP = "\"'><img src=x onerror=alert('meta')><script>alert('meta')</script>"
PATH = "/shop/<svg onload=alert('path')>"


def payload(beacon: str) -> str:
    """Run anywhere, this would open a dialog, set a flag and call the beacon."""
    return f"alert(document.domain);window.__xss=1;fetch('{beacon}',{{mode:'no-cors'}})"


def hostile_page(server: ServerProcess, site_key: str) -> str:
    js = payload(server.url + "/xss-beacon")
    title = MARKUP.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"""<!doctype html>
<html><head><title>{title}</title></head>
<body>
  <h1 id="marker">Hostile shop</h1>
  <script>{js}</script>
  <img id="bad-img" src="/missing.png" onerror="{js}">
  <div id="hover" onmouseover="{js}" onclick="{js}">hover me</div>
  <a id="js-link" href="javascript:{js}">a javascript: link</a>
  <svg><script>{js}</script></svg>
  <iframe id="inner" srcdoc="<script>{js}</script>"></iframe>
  <script>
    function addHostile() {{
      var d = document.createElement("div"); d.id = "added";
      var img = document.createElement("img"); img.setAttribute("onerror", {json.dumps(js)});
      img.src = "/nope.png";
      var a = document.createElement("a"); a.href = "javascript:" + {json.dumps(js)};
      a.textContent = "added link"; d.append(img, a); document.body.appendChild(d);
    }}
  </script>
  <button id="add" onclick="addHostile()">add</button>
  <script src="{server.url}/recorder.js" data-site-key="{site_key}" async></script>
</body></html>"""


async def send_hostile_hello(server: ServerProcess, site_key: str, origin: str) -> str:
    """A recorder that sends raw markup where browsers would have escaped it."""
    sid = str(uuid.uuid4())
    hello = {
        "v": 1, "site": site_key, "sid": sid, "vid": str(uuid.uuid4()), "page": 0,
        "url": f"{origin}/{MARKUP}", "referrer": f"https://ref.example/{MARKUP}",
        "title": MARKUP, "viewport": [800, 600], "screen": [800, 600], "lang": MARKUP[:40],
        "tz": MARKUP[:60], "clock": int(time.time() * 1000),
    }  # fmt: skip
    now = int(time.time() * 1000)
    events = [
        {"type": 4, "data": {"href": f"{origin}/", "width": 800, "height": 600}, "timestamp": now}
    ]
    body = {"hello": hello, "batches": [{"seq": 0, "page": 0, "events": events}]}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.url + "/ingest/batch",
            data=json.dumps(body),
            headers={"Origin": origin, "Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
    return sid


async def no_script_ran(page: Page) -> None:
    for frame in page.frames:
        assert await frame.evaluate("typeof window.__xss") == "undefined", frame.url


async def test_recorded_markup_never_runs_in_the_dashboard(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages[PATH] = hostile_page(replay_server, account.site_key)

    visitor = await browser.new_context()
    page = await visitor.new_page()
    # No dialog listener: Playwright dismisses the payloads' dialogs on the client's own site.
    await page.goto(client_site.url + PATH)
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    recorded_sid = await page.evaluate("window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(500)
    await page.click("#add")
    await page.wait_for_timeout(2000)
    assert await page.evaluate("!!document.getElementById('added')")
    await visitor.close()
    hostile_sid = await send_hostile_hello(replay_server, account.site_key, client_site.url)

    async def both_listed() -> bool:
        status, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        ids = {s["id"] for s in body["sessions"]}  # type: ignore[index]
        return status == 200 and {recorded_sid, hostile_sid} <= ids

    await wait_for(both_listed)

    async def has_added_node() -> bool:
        _, body = await api_get(
            replay_server, account.token, f"/api/v1/sessions/{recorded_sid}/events"
        )
        events = body["events"]  # type: ignore[index]
        return any(e["type"] == 3 and "nope.png" in json.dumps(e) for e in events)

    await wait_for(has_added_node)

    staff = await browser.new_context()
    dialogs: list[str] = []
    beacons: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    staff.on("dialog", on_dialog)

    def on_request(request: Request) -> None:
        if "xss-beacon" in request.url:
            beacons.append(request.url)

    staff.on("request", on_request)
    page = await staff.new_page()
    await page.goto(f"{replay_server.url}/login")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{replay_server.url}/")

    await page.goto(f"{replay_server.url}/sites/{account.site_id}/sessions")
    listing = await page.inner_text("main")
    assert MARKUP in listing  # shown as text, not interpreted
    await page.wait_for_timeout(500)
    await no_script_ran(page)

    _, body = await api_get(replay_server, account.token, f"/api/v1/sessions/{recorded_sid}/events")
    stamps = [e["timestamp"] for e in body["events"]]  # type: ignore[index]
    end_s = (max(stamps) - min(stamps)) // 1000 + 1
    for sid, at in ((hostile_sid, 0), (recorded_sid, end_s)):
        await page.goto(f"{replay_server.url}/sessions/{sid}?t={at}")
        await page.wait_for_timeout(1500)
        await no_script_ran(page)
    frame_el = await page.wait_for_selector("iframe")
    sandbox = await frame_el.get_attribute("sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox
    frame = await frame_el.content_frame()
    assert frame is not None
    await frame.wait_for_selector("#marker", state="attached", timeout=10_000)
    await frame.wait_for_selector("#added", state="attached", timeout=10_000)
    # Activate everything a user might touch inside the replay.
    await frame.evaluate(
        "for (const el of document.querySelectorAll('a, #hover, #bad-img')) {"
        " el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); el.click(); }"
    )
    await page.wait_for_timeout(1500)
    await no_script_ran(page)
    assert page.url.startswith(f"{replay_server.url}/sessions/")
    csp = (await page.request.get(page.url)).headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    await staff.close()
    assert dialogs == [] and beacons == []
