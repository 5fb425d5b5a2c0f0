"""The keyframe invariant on real recordings: rrweb's recorder in Chromium records
a page that changes in every way the mirror models (a custom element with a
shadow root and adopted sheets, style sheet rule changes, a same-origin
iframe, lists re-ordered, style properties, scroll, typing), then rrweb's
Replayer replays each recording from keyframes and from the start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Route

from replay_server.chunks.keyframes import Mirror
from tests.chunks.keyframes.chromium_replay import RRWEB, chromium_replayer
from tests.chunks.keyframes.test_replayer_both_ways import compare

pytestmark = pytest.mark.e2e
SITE = "http://site.test"

_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style id="sheet">p { color: rgb(20, 20, 20); } body { min-height: 1600px; }</style>
</head><body>
<div id="scroller" style="height: 60px; overflow: auto"><div style="height: 300px">tall</div></div>
<ul id="list"><li>a</li><li>b</li><li>c</li></ul>
<x-widget id="widget"></x-widget>
<p id="status" class="idle">idle</p>
<input id="name"> <input id="agree" type="checkbox">
<iframe id="frame" srcdoc="<p id=inner>framed</p>" width="220" height="80"></iframe>
<script src="/rrweb.js"></script>
<script>
customElements.define('x-widget', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<p class="count">0</p><button>+</button>';
    this.sheet = new CSSStyleSheet();
    this.sheet.replaceSync('p { color: rgb(200, 0, 0); }');
    root.adoptedStyleSheets = [this.sheet];
  }
  bump(n) {
    this.shadowRoot.querySelector('.count').textContent = String(n);
    const item = document.createElement('span');
    item.textContent = ' item ' + n;
    this.shadowRoot.appendChild(item);
  }
});
window.events = [];
window.startRecording = () => {
  window.stopRecording = rrweb.record({
    emit: (event) => window.events.push(event),
    inlineStylesheet: true,
    sampling: { scroll: 0, input: 'last' },
  });
};
</script></body></html>"""

# Each step runs after the recorder has sent the previous one's mutations.
_STEPS = [
    "const l = document.querySelector('#list');"
    " l.append(Object.assign(document.createElement('li'), {textContent: 'd'}))",
    "const l = document.querySelector('#list');"
    " l.insertBefore(l.lastElementChild, l.firstElementChild)",
    "document.querySelector('#list li:nth-child(2)').remove()",
    "document.querySelector('#status').textContent = 'busy'",
    "document.querySelector('#status').style.setProperty('color', 'rgb(0, 0, 200)')",
    "document.querySelector('#status').className = 'busy'",
    "document.querySelector('#sheet').sheet.insertRule('li { font-weight: bold; }', 0)",
    "document.querySelector('#widget').bump(1)",
    "document.querySelector('#widget').sheet.insertRule('span { color: rgb(0, 120, 0); }', 0)",
    "document.querySelector('#widget').bump(2)",
    "const d = document.querySelector('#frame').contentDocument;"
    " d.querySelector('#inner').textContent = 'changed'",
    "const d = document.querySelector('#frame').contentDocument;"
    " d.body.append(Object.assign(d.createElement('b'), {textContent: 'added in the frame'}))",
    "document.querySelector('#scroller').scrollTop = 40",
    "window.scrollTo(0, 120)",
    "document.querySelector('#list').innerHTML = '<li>x</li><li>y</li>'",
    "document.querySelector('#sheet').sheet.deleteRule(0)",
    "document.querySelector('#status').style.removeProperty('color')",
    "document.querySelector('#widget').bump(3)",
    "document.querySelector('#list').firstElementChild.setAttribute('data-state', 'open')",
]


async def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(SITE)
    if path == "/rrweb.js":
        await route.fulfill(path=RRWEB / "rrweb.umd.cjs", content_type="text/javascript")
    else:
        await route.fulfill(body=_PAGE, content_type="text/html")


async def record(browser: Browser) -> list[dict[str, Any]]:
    page = await browser.new_page(viewport={"width": 800, "height": 600})
    try:
        await page.route(f"{SITE}/**", _serve)
        await page.goto(f"{SITE}/")
        await page.wait_for_function(
            "() => document.querySelector('#frame').contentDocument?.querySelector('#inner')"
        )
        await page.evaluate("window.startRecording()")
        await page.wait_for_timeout(100)
        for index, step in enumerate(_STEPS):
            await page.evaluate(f"() => {{ {step} }}")
            await page.wait_for_timeout(40)
            if index == 5:
                await page.type("#name", "Ada", delay=30)
                await page.click("#agree")
                await page.wait_for_timeout(40)
        await page.evaluate("window.stopRecording()")
        events: list[dict[str, Any]] = await page.evaluate("window.events")
        return events
    finally:
        await page.close()


@pytest.mark.parametrize("virtual_dom", [True, False], ids=["seek-virtual-dom", "real-dom"])
async def test_recorded_pages_replay_the_same_from_keyframes(
    tmp_path: Path, virtual_dom: bool
) -> None:
    async with chromium_replayer() as replayer:
        replayer.virtual_dom = virtual_dom
        browser = replayer.page.context.browser
        assert browser is not None
        events = await record(browser)
        sources = {e["data"].get("source") for e in events if e["type"] == 3}
        # The recording holds what it was made to: mutations, scroll, input,
        # sheet rules, adopted sheets.
        assert {0, 3, 5, 8, 15} <= sources, sources
        mirror = Mirror()
        mirror.apply_all(events)
        assert mirror.trusted, mirror.untrusted_reason
        compared = await compare(replayer, "recorded page", events, tmp_path)
        assert compared >= 10
