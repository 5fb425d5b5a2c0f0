"""Issue 16's heatmap in Chromium: real visits recorded through the real
recorder and server click a known button 5 times and another element once;
the heatmap page draws the page from the stored snapshot and the hottest
pixel of its canvas lies over that button as drawn, on a desktop and on a
mobile viewport whose CSS puts the button elsewhere. The scroll map shows
its depth bands; hovering the button names its clicks and clicking it opens
exactly the sessions that clicked it; the overview links the page to its
heatmap and its sessions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Frame, Page

from tests.e2e.conftest import Account, ClientSite, api_get, create_account, wait_for
from tests.procs import ServerProcess

pytestmark = pytest.mark.e2e

MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
DESKTOP = {"width": 1200, "height": 800}
MOBILE = {"width": 390, "height": 760}
PATH = "/shop"


# (left, top, width, height) of the buttons in page coordinates, as the CSS below puts them
DESKTOP_BOXES = {"buy": (760, 420, 180, 56), "other": (60, 980, 140, 44)}
MOBILE_BOXES = {"buy": (24, 1500, 300, 60), "other": (220, 330, 130, 44)}


def shop_page(server: ServerProcess, account: Account) -> str:
    """The button sits right and high on wide screens, left and low on narrow ones."""
    return f"""<!doctype html>
<html><head><title>Heat shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body {{ margin: 0; font: 16px sans-serif; }}
  #hero {{ height: 260px; background: #dde3ee; }}
  #buy {{ position: absolute; left: 760px; top: 420px; width: 180px; height: 56px; }}
  #other {{ position: absolute; left: 60px; top: 980px; width: 140px; height: 44px; }}
  .tall {{ height: 2600px; }}
  @media (max-width: 600px) {{
    #buy {{ left: 24px; top: 1500px; width: 300px; height: 60px; }}
    #other {{ left: 220px; top: 330px; width: 130px; }}
  }}
</style></head>
<body>
  <div id="hero"><h1>Heat shop</h1></div>
  <button id="buy" type="button">Buy now</button>
  <button id="other" type="button" onclick="this.textContent = 'Thanks'">Other</button>
  <div class="tall">Long page</div>
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""


async def record_visit(browser: Browser, url: str, mobile: bool) -> None:
    options: dict[str, Any] = {"viewport": MOBILE if mobile else DESKTOP}
    if mobile:
        options.update(user_agent=MOBILE_UA, is_mobile=True, has_touch=True)
    context = await browser.new_context(**options)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
    await page.wait_for_timeout(2500)  # past the snapshot's settle time the heatmap draws at
    for _ in range(5):
        await page.click("#buy")
        await page.wait_for_timeout(700)  # spaced out: plain clicks, not a rage burst
    await page.click("#other")
    await page.wait_for_timeout(400)
    await page.mouse.wheel(0, 4000)  # to the bottom: the scroll map's full depth
    await page.wait_for_timeout(1200)
    await context.close()  # the page view ends: its chunk is cut and counted
    assert errors == []


async def heatmap_api(
    server: ServerProcess, account: Account, kind: str, device: str
) -> dict[str, Any]:
    status, body = await api_get(
        server,
        account.token,
        f"/api/v1/sites/{account.site_id}/heatmap?url={PATH}&kind={kind}&device={device}",
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def wait_counted(server: ServerProcess, account: Account, device: str) -> dict[str, Any]:
    """The rollups hold the visit: 5 clicks on the button, a snapshot to draw."""

    async def counted() -> dict[str, Any] | None:
        body = await heatmap_api(server, account, "click", device)
        clicks = {e["selector"]: e["clicks"] for e in body["elements"]}
        buy = [n for selector, n in clicks.items() if selector.endswith("#buy")]
        return body if buy == [5] and body["snapshot"] else None

    found: dict[str, Any] = await wait_for(counted, timeout=60, interval=0.5)
    return found


async def dashboard(browser: Browser, server: ServerProcess, account: Account) -> Page:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.click("button[type=submit], input[type=submit]")
    await page.wait_for_url(f"{server.url}/")
    return page


async def open_heatmap(page: Page, server: ServerProcess, site_id: int, query: str) -> Frame:
    await page.goto(f"{server.url}/sites/{site_id}/heatmap?url={PATH}&{query}")
    await page.wait_for_selector(
        "html[data-heatmap=ready], html[data-heatmap=error]", state="attached", timeout=30_000
    )
    notice = await page.locator(".heat-notice").text_content()
    assert await page.get_attribute("html", "data-heatmap") == "ready", notice
    frame_el = await page.wait_for_selector(".heat-page iframe", state="attached")
    assert frame_el is not None
    sandbox = await frame_el.get_attribute("sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox
    frame = await frame_el.content_frame()
    assert frame is not None
    return frame


async def box_in_frame(frame: Frame, selector: str) -> list[float]:
    """Page px box (left, top, width, height) of an element of the drawn page."""
    box: list[float] = await frame.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
            return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }""",
        selector,
    )
    return box


HOTTEST = """() => {
  const c = document.querySelector('.heat-canvas');
  const { width, height } = c;
  const d = c.getContext('2d').getImageData(0, 0, width, height).data;
  let max = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > max) max = d[i];
  let sx = 0, sy = 0, n = 0;
  for (let i = 3; i < d.length; i += 4) {
    if (d[i] === max) { const p = (i - 3) / 4; sx += p % width; sy += Math.floor(p / width); n++; }
  }
  return { max, x: sx / n, y: sy / n, n, scale: Number(c.dataset.scale), width, height };
}"""

MAX_IN_BOX = """([left, top, width, height]) => {
  const c = document.querySelector('.heat-canvas');
  const s = Number(c.dataset.scale);
  const d = c.getContext('2d').getImageData(
    Math.round(left * s), Math.round(top * s),
    Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))).data;
  let max = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > max) max = d[i];
  return max;
}"""

ALPHA_AT = """([x, y]) => {
  const c = document.querySelector('.heat-canvas');
  const s = Number(c.dataset.scale);
  return c.getContext('2d').getImageData(Math.round(x * s), Math.round(y * s), 1, 1).data[3];
}"""


def inside(x: float, y: float, box: list[float]) -> bool:
    left, top, width, height = box
    return left <= x <= left + width and top <= y <= top + height


async def check_click_map(page: Page, frame: Frame, width: int) -> list[float]:
    """The hottest pixel lies over #buy as drawn; #other is cooler. Returns #buy's box."""
    drawn_width = await frame.evaluate("document.documentElement.clientWidth")
    assert drawn_width == width  # drawn at the recorded viewport's width
    buy = await box_in_frame(frame, "#buy")
    other = await box_in_frame(frame, "#other")
    hot = await page.evaluate(HOTTEST)
    assert hot["max"] > 150, hot
    x, y = hot["x"] / hot["scale"], hot["y"] / hot["scale"]  # canvas px -> page px
    assert inside(x, y, buy), (x, y, buy, hot)
    other_alpha = await page.evaluate(MAX_IN_BOX, other)
    assert 0 < other_alpha < hot["max"], other_alpha  # clicked once: warm, not hottest
    return buy


async def hover_and_follow(page: Page, buy: list[float]) -> str:
    """Hovering the button shows its counts; clicking it opens its sessions."""
    scale = float(await page.get_attribute(".heat-sizer", "data-scale") or "1")
    sizer = await page.query_selector(".heat-sizer")
    assert sizer is not None
    await sizer.scroll_into_view_if_needed()
    await page.evaluate(
        "(y) => document.querySelector('.heat-stage').scrollTop = y",
        max(0.0, buy[1] * scale - 200),
    )
    box = await sizer.bounding_box()
    assert box is not None
    target_x = box["x"] + (buy[0] + buy[2] / 2) * scale
    target_y = box["y"] + (buy[1] + buy[3] / 2) * scale
    await page.mouse.move(target_x, target_y)
    tip = page.locator(".heat-tip")
    await tip.wait_for(state="visible")
    text = await tip.inner_text()
    assert "#buy" in text and "5 clicks" in text, text
    await page.mouse.click(target_x, target_y)
    await page.wait_for_url("**/sessions?**")
    return page.url


async def test_click_and_scroll_maps_over_the_drawn_page(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages[PATH] = shop_page(replay_server, account)
    await record_visit(browser, client_site.url + PATH, mobile=False)
    await record_visit(browser, client_site.url + PATH, mobile=True)
    desktop = await wait_counted(replay_server, account, "desktop")
    mobile = await wait_counted(replay_server, account, "mobile")
    assert desktop["snapshot"]["session_id"] != mobile["snapshot"]["session_id"]
    # Clicks are placed on the page where they happened, also right after the
    # scroll Playwright makes to reach an element (recorder: scroll at the click).
    for body, boxes in ((desktop, DESKTOP_BOXES), (mobile, MOBILE_BOXES)):
        for element in body["elements"]:
            name = element["selector"].rsplit("#", 1)[-1]
            left, top, width, height = boxes[name]
            assert left <= element["x"] <= left + width, (name, element)
            assert top <= element["y"] <= top + height, (name, element)
    scroll = await heatmap_api(replay_server, account, "scroll", "desktop")
    assert scroll["page_views"] == 1 and scroll["depths"][-1]["reached"] == 1  # to the bottom

    page = await dashboard(browser, replay_server, account)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Desktop: the button right and high.
    frame = await open_heatmap(page, replay_server, account.site_id, "kind=click&device=desktop")
    buy = await check_click_map(page, frame, DESKTOP["width"])
    assert buy[0] > 600 and buy[1] < 600
    sessions_url = await hover_and_follow(page, buy)
    query = parse_qs(urlsplit(sessions_url).query)
    assert query["clicked"][0].endswith("#buy") and query["url"] == [PATH]
    assert query["device"] == ["desktop"]
    rows = page.locator("table.sessions tbody tr")
    await rows.first.wait_for()
    assert await rows.count() == 1  # the desktop session; the mobile one is filtered out
    assert await rows.first.get_attribute("data-session-id") == desktop["snapshot"]["session_id"]

    # Mobile: the same button, drawn left and low by the page's media query.
    frame = await open_heatmap(page, replay_server, account.site_id, "kind=click&device=mobile")
    buy_mobile = await check_click_map(page, frame, MOBILE["width"])
    assert buy_mobile[0] < 100 and buy_mobile[1] > 1200

    # Scroll map: bands down the page, labelled, and the average fold.
    await open_heatmap(page, replay_server, account.site_id, "kind=scroll&device=desktop")
    assert await page.get_attribute(".heat-canvas", "data-kind") == "scroll"
    top_alpha = await page.evaluate(ALPHA_AT, [20, 20])
    assert top_alpha > 0  # everyone saw the top of the page
    labels = await page.locator(".heat-label.is-depth").all_inner_texts()
    assert labels and labels[0].startswith("0% down: 100%"), labels
    assert await page.locator(".heat-label.is-fold").count() == 1
    assert "Reached depth" in await page.locator("#heat-depths").inner_text()

    # The overview lists the page, linking to its heatmap and its sessions.
    await page.goto(f"{replay_server.url}/sites/{account.site_id}/overview")
    await page.wait_for_selector("html[data-overview]", state="attached", timeout=20_000)
    assert await page.get_attribute("html", "data-overview") == "ready"
    row = page.locator(f'#top-pages tr[data-path="{PATH}"]')
    await row.wait_for()
    links = await row.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    heat = [parse_qs(urlsplit(h).query) for h in links if "/heatmap?" in h]
    assert {q["kind"][0] for q in heat} == {"click", "scroll"}
    assert all(q["url"] == [PATH] for q in heat)
    sessions = [parse_qs(urlsplit(h).query) for h in links if "/sessions?" in h]
    assert sessions and all(q["url"] == [PATH] and q["url_match"] == ["exact"] for q in sessions)
    assert "2" in await page.locator(".total-value").first.inner_text()  # two sessions
    assert errors == []
