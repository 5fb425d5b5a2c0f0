"""Recordings of several different pages of one site, made in Chromium with
rrweb's own recorder (@rrweb/record 2.1.6 from node_modules, inputs masked as
our recorder masks them) while Playwright moves the mouse, scrolls, clicks
buttons that change the page and types into a form: a shop whose home,
category, product, cart, checkout and blog pages share a layout and a style
sheet, each page view with its own products (seeded). Used by
benchmarks/storage.py; the recordings are cached in a file (--pages-cache).
"""

from __future__ import annotations

import asyncio
import html
import json
import random
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import Browser, async_playwright

from tests.chunks.site_pages import STYLE, TEMPLATES, WORDS, product_name
from tests.procs import CHROMIUM, CHROMIUM_ARGS, free_port

ROOT = Path(__file__).resolve().parents[1]
RRWEB = ROOT / "node_modules" / "@rrweb" / "record" / "dist" / "record.umd.min.cjs"
SCRIPT = """
<script>
function addToCart(name) {
  const count = document.querySelector('.cart-count');
  count.textContent = String(Number(count.textContent) + 1);
  const toast = document.createElement('div');
  toast.className = 'toast';
  toast.textContent = 'Added ' + name + ' to your cart';
  document.body.appendChild(toast);
  setTimeout(() => toast.remove(), 1500);
}
document.addEventListener('mouseover', (e) => {
  const card = e.target.closest && e.target.closest('.card');
  document.querySelectorAll('.card.is-hover')
    .forEach((c) => c !== card && c.classList.remove('is-hover'));
  if (card) card.classList.add('is-hover');
});
</script>
"""


def _card(rng: random.Random) -> str:
    name = html.escape(product_name(rng))
    sku = rng.randrange(10_000, 99_999)
    price = f"${rng.randrange(9, 400)}.{rng.randrange(100):02d}"
    return (
        f'<div class="card"><img src="/img/{sku}.svg" alt="{name}" width="200" height="260">'
        f'<a href="/p/{sku}">{name}</a><span class="price">{price}</span>'
        f'<button class="btn" type="button" onclick="addToCart(\'{name}\')">'
        "Add to cart</button></div>"
    )


def page_html(rng: random.Random, template: str) -> str:
    nav = "".join(f'<a href="/{t}">{t.title()}</a>' for t in TEMPLATES)
    if template in ("home", "category"):
        main = (
            '<div class="grid">'
            + "".join(_card(rng) for _ in range(rng.randrange(8, 24)))
            + "</div>"
        )
    elif template == "product":
        bullets = "".join(f"<li>{' '.join(rng.choices(WORDS, k=6))}</li>" for _ in range(5))
        main = f"<h1>{html.escape(product_name(rng))}</h1><ul>{bullets}</ul>" + _card(rng)
        main += '<div class="grid">' + "".join(_card(rng) for _ in range(4)) + "</div>"
    elif template in ("cart", "checkout"):
        rows = "".join(
            f'<div class="form-row"><label>{label}</label>'
            f'<input type="text" name="{label.lower()}"></div>'
            for label in ("Name", "Street", "City", "Postcode", "Email")
        )
        main = "".join(_card(rng) for _ in range(rng.randrange(1, 4))) + f"<form>{rows}</form>"
    else:
        paragraphs = "".join(f"<p>{' '.join(rng.choices(WORDS, k=40))}</p>" for _ in range(6))
        main = f'<article class="post">{paragraphs}</article>'
    return (
        f"<!doctype html><html lang=en><head><title>{template.title()} · Shop Example</title>"
        f"<style>{STYLE} .card.is-hover {{ box-shadow: 0 2px 8px #0003; }}</style></head>"
        f'<body><header class="site-header"><nav class="site-nav">{nav}</nav>'
        f'<span class="cart-count">0</span></header>'
        f'<main><div class="breadcrumb">Home / {template.title()}</div>{main}</main>'
        f'<footer class="site-footer">© Shop Example · Returns · Shipping · Contact</footer>'
        f'<div style="height: 1200px"></div>{SCRIPT}</body></html>'
    )


async def _record_page(browser: Browser, url: str, rng: random.Random, seconds: float) -> list[Any]:
    context = await browser.new_context(
        viewport=rng.choice([{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
    )
    page = await context.new_page()
    await page.goto(url)
    await page.add_script_tag(content=RRWEB.read_text())
    await page.evaluate(
        """() => { window.__events = [];
        const lib = window.rrwebRecord.record || window.rrwebRecord;
        lib({emit(e) { window.__events.push(e); }, maskAllInputs: true,
             sampling: {mousemove: 50}}); }"""
    )
    size = page.viewport_size or {"width": 1280, "height": 800}
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    buttons = await page.query_selector_all("button")
    inputs = await page.query_selector_all("input")
    while loop.time() < end:
        roll = rng.random()
        if roll < 0.5:
            await page.mouse.move(
                rng.randrange(size["width"]),
                rng.randrange(size["height"]),
                steps=rng.randrange(5, 20),
            )
        elif roll < 0.7:
            await page.mouse.wheel(0, rng.randrange(-300, 600))
        elif roll < 0.85 and buttons:
            await rng.choice(buttons).click(timeout=2000)
        elif inputs:
            await rng.choice(inputs).type(" ".join(rng.choices(WORDS, k=2)), delay=40)
        await asyncio.sleep(rng.uniform(0.05, 0.4))
    events: list[Any] = await page.evaluate("window.__events")
    await context.close()
    return events


async def record_pages(
    count: int, seconds: float, seed: int = 7, parallel: int = 3, distinct: int = 12
) -> list[list[Any]]:
    """`count` page views of the shop, each recorded for `seconds`: views of
    `distinct` pages (the same content at the same URL, as on a real site),
    the popular ones more often (weights 1/rank)."""
    rng = random.Random(seed)
    pages = {f"/v{j}": page_html(rng, TEMPLATES[j % len(TEMPLATES)]) for j in range(distinct)}
    weights = [1 / (rank + 1) for rank in range(distinct)]
    views = [f"/v{j}" for j in rng.choices(range(distinct), weights=weights, k=count)]

    async def serve(request: web.Request) -> web.Response:
        if request.path.startswith("/img/"):
            return web.Response(
                text='<svg xmlns="http://www.w3.org/2000/svg"/>', content_type="image/svg+xml"
            )
        return web.Response(
            text=pages.get(request.path, "<p>not here</p>"), content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    limit = asyncio.Semaphore(parallel)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            async def one(i: int) -> list[Any]:
                async with limit:
                    return await _record_page(
                        browser,
                        f"http://127.0.0.1:{port}{views[i]}",
                        random.Random(seed * 1000 + i),
                        seconds,
                    )

            try:
                return list(await asyncio.gather(*(one(i) for i in range(count))))
            finally:
                await browser.close()
    finally:
        await runner.cleanup()


def cached_pages(path: Path, count: int, seconds: float) -> list[list[Any]]:
    if path.exists():
        cached: list[list[Any]] = json.loads(path.read_text())
        if len(cached) >= count:
            return cached[:count]
    recorded = asyncio.run(record_pages(count, seconds))
    path.write_text(json.dumps(recorded))
    return recorded
