"""rrweb's own Replayer in real Chromium, as a test harness: replay a list of
events to a moment and read back the rebuilt DOM (with the replayer's mirror
ids, CSSOM, form state, scroll, focus) and a screenshot.

The replayer's cursor is hidden and its :hover classes left out of the DOM
read back (see `attribute` below). rrweb's UMD bundle and style sheet are
served from node_modules through a routed origin (no server, no CDN).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Route, async_playwright

from tests.procs import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[3]
RRWEB = ROOT / "node_modules" / "rrweb" / "dist"
ORIGIN = "http://replayer.test"
_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/rrweb.css"><script src="/rrweb.js"></script>
<style>body { margin: 0 } #root { position: absolute; left: 0; top: 0 }
.replayer-mouse { display: none }</style>
</head><body><div id="root"></div><script src="/harness.js"></script></body></html>"""

# Walks the replayer's iframe: one line per node (depth, mirror id, name,
# attributes or text, form state, scroll), shadow roots and iframe documents
# included; then every sheet's rules (style elements and adopted sheets).
_HARNESS = r"""
function sheetText(sheet) {
  try { return Array.from(sheet.cssRules).map((r) => r.cssText).join(' | '); }
  catch (e) { return '<unreadable>'; }
}
// The replayer's :hover classes are left out. Seeking (one synchronous batch
// on rrweb's virtual DOM) looks up a click's target in the real DOM only, so it
// ignores clicks on nodes added since the batch began: from the page's start
// that is every node added after the FullSnapshot, from a keyframe none. A
// keyframe gives the hover that playing (not seeking) shows.
function attribute(node, name) {
  const value = node.getAttribute(name);
  if (name !== 'class') return value;
  const rest = value.split(' ').filter((c) => c && c !== ':hover').join(' ');
  return rest || value === '' ? rest : null;  // a class that held only :hover
}
function describe(doc, mirror) {
  const lines = [];
  const stack = [[doc, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop();
    // Nodes the replayer made itself (its style element) have no id; rrdom
    // numbers them negatively, in an order of its own.
    const id = mirror.getId(node);
    let line = depth + ' #' + (id < 0 ? '-' : id) + ' ' + node.nodeName;
    if (node.nodeType === 1) {
      const names = Array.from(node.attributes).map((a) => a.name).sort()
        .filter((n) => attribute(node, n) !== null);
      line += ' ' + names.map((n) => n + '=' + JSON.stringify(attribute(node, n))).join(' ');
      if ('value' in node && ['INPUT', 'TEXTAREA', 'SELECT'].includes(node.nodeName)) {
        line += ' .value=' + JSON.stringify(node.value) + ' .checked=' + node.checked;
      }
      if (node.scrollTop || node.scrollLeft) {
        line += ' scroll=' + node.scrollLeft + ',' + node.scrollTop;
      }
      if (node.nodeName === 'STYLE' && node.sheet) line += ' rules=' + sheetText(node.sheet);
    } else if (node.nodeType === 3 || node.nodeType === 8) {
      line += ' ' + JSON.stringify(node.data);
    } else if (node.nodeType === 9) {
      const view = node.defaultView;
      line += ' scroll=' + (view ? view.scrollX + ',' + view.scrollY : '-');
      line += ' adopted=' + (node.adoptedStyleSheets || []).map(sheetText).join(' / ');
      line += ' focus=' + (node.activeElement ? mirror.getId(node.activeElement) : '-');
    }
    lines.push(line);
    const next = [];
    for (const child of node.childNodes) next.push([child, depth + 1]);
    if (node.shadowRoot) {
      lines.push((depth + 1) + ' shadow-root adopted=' +
        node.shadowRoot.adoptedStyleSheets.map(sheetText).join(' / '));
      for (const child of node.shadowRoot.childNodes) next.push([child, depth + 2]);
    }
    // An iframe whose document was not recorded (yet) shows what the browser
    // loaded into it, when it did: not the replayer's doing.
    const inner = node.nodeName === 'IFRAME' ? node.contentDocument : null;
    if (inner && mirror.getId(inner) > 0) {
      next.push([inner, depth + 1]);
    }
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
  return lines;
}
let replayer = null;
window.replayTo = async (events, offset, virtualDom) => {
  if (replayer) replayer.destroy();
  const root = document.getElementById('root');
  root.innerHTML = '';
  replayer = new rrweb.Replayer(events, {
    root, mouseTail: false, showWarning: false, showDebug: false, triggerFocus: true,
    useVirtualDom: virtualDom,
  });
  // As in a player: the replayer's start-up timers (first Meta's size, first
  // FullSnapshot) run before the seek, not after it (they would undo a resize).
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  replayer.pause(offset);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const doc = replayer.iframe.contentDocument;
  const selection = doc.getSelection();
  const lines = describe(doc, replayer.getMirror());
  lines.push('selection=' + (selection ? String(selection) : '-'));
  // Pixels of a fresh layout: Chromium's incremental layout may keep a line
  // box an emptied inline no longer needs, depending on the order of changes.
  // (The DOM is read above: the style attribute touched here is put back.)
  const html = doc.documentElement;
  const style = html.getAttribute('style');
  html.style.display = 'none';
  html.getBoundingClientRect();
  if (style === null) html.removeAttribute('style'); else html.setAttribute('style', style);
  html.getBoundingClientRect();
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return lines;
};
"""


@dataclass
class Replayed:
    dom: list[str]
    screenshot: bytes


class ChromiumReplayer:
    """`virtual_dom`: rrweb's default (our player's), where a seek applies
    mutations to a virtual DOM and the real one at the end; False: every
    event on the real DOM at once, as playing does."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.virtual_dom = True

    async def replay(self, events: list[dict[str, Any]], until_ms: float) -> Replayed:
        """The replayer paused at absolute time `until_ms` (rrweb's pause
        takes an offset from the first event)."""
        offset = until_ms - events[0]["timestamp"]
        dom = await self.page.evaluate(
            "([events, offset, virtual]) => window.replayTo(events, offset, virtual)",
            [events, offset, self.virtual_dom],
        )
        frame = self.page.locator("#root iframe")
        shot = await frame.screenshot(animations="disabled", caret="hide")
        return Replayed(dom, shot)


async def _serve(route: Route) -> None:
    if not route.request.url.startswith(ORIGIN):
        await route.fulfill(status=404, body="")
        return
    path = route.request.url.removeprefix(ORIGIN)
    if path == "/rrweb.js":
        await route.fulfill(path=RRWEB / "rrweb.umd.cjs", content_type="text/javascript")
    elif path == "/rrweb.css":
        await route.fulfill(path=RRWEB / "style.css", content_type="text/css")
    elif path == "/harness.js":
        await route.fulfill(body=_HARNESS, content_type="text/javascript")
    elif path == "/":
        await route.fulfill(body=_PAGE, content_type="text/html")
    else:
        await route.fulfill(status=404, body=json.dumps({"not": path}))


@asynccontextmanager
async def chromium_replayer() -> AsyncIterator[ChromiumReplayer]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 800})
            await page.route("**/*", _serve)  # nothing reaches the network
            await page.goto(f"{ORIGIN}/")
            await page.wait_for_function("() => window.rrweb && window.replayTo")
            yield ChromiumReplayer(page)
        finally:
            await browser.close()
