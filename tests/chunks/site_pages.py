"""Generated recordings of several different pages of one site (a shop): home,
category, product, cart, checkout and blog pages sharing a layout, a style
sheet and a vocabulary, each with its own content, then what a visitor does on
it (mouse moves, scrolls, clicks, DOM changes, masked input). Seeded, so a
corpus is the same on every run. Used by the dictionary tests and by
benchmarks/storage.py; shapes as @rrweb/types 2.1.6 and as our recorder sends
them (Meta + FullSnapshot first, inputs masked).

Not a recording of real pages: rrweb's serializer is not run here. The test
fixture (tests/fixtures/shop_session.json.gz) is a real one, but small.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]
TEMPLATES = ("home", "category", "product", "cart", "checkout", "blog")
WORDS = [
    "classic",
    "organic",
    "linen",
    "cotton",
    "merino",
    "wool",
    "leather",
    "canvas",
    "denim",
    "slim",
    "relaxed",
    "everyday",
    "travel",
    "weekend",
    "summer",
    "winter",
    "rain",
    "trail",
    "city",
    "studio",
    "premium",
    "recycled",
    "heritage",
    "essential",
    "lightweight",
    "waterproof",
]
THINGS = [
    "shirt",
    "jacket",
    "sneaker",
    "boot",
    "backpack",
    "scarf",
    "hat",
    "sweater",
    "dress",
    "jeans",
    "tote",
    "watch",
]
COLOURS = ["black", "white", "navy", "olive", "sand", "rust", "charcoal", "forest", "sky", "cream"]
STYLE = "".join(
    f".{name} {{ {rules} }}"
    for name, rules in [
        (
            "site-header",
            "display: flex; align-items: center; padding: 12px 24px; background: #1d2b36;",
        ),
        ("site-nav a", "color: #fff; margin-right: 16px; text-decoration: none; font-weight: 600;"),
        ("grid", "display: grid; grid-template-columns: repeat(4, 1fr); gap: 24px;"),
        ("card", "border: 1px solid #ddd; border-radius: 8px; padding: 12px; background: #fff;"),
        ("card img", "width: 100%; aspect-ratio: 3 / 4; object-fit: cover;"),
        ("price", "font-size: 1.1rem; color: #b33c1b; font-variant-numeric: tabular-nums;"),
        (
            "btn",
            "padding: 10px 18px; border-radius: 6px; border: 0; background: #0b6e4f; color: #fff;",
        ),
        ("btn:hover", "background: #095c42;"),
        ("site-footer", "padding: 32px 24px; background: #f3f3f3; color: #555; font-size: 14px;"),
        ("toast", "position: fixed; bottom: 24px; right: 24px; background: #222; color: #fff;"),
        ("form-row", "display: flex; flex-direction: column; margin-bottom: 12px;"),
        ("form-row input", "padding: 8px; border: 1px solid #bbb; border-radius: 4px;"),
        ("post", "max-width: 720px; margin: 0 auto; line-height: 1.6;"),
        ("breadcrumb", "font-size: 13px; color: #777; margin: 12px 0;"),
    ]
)


@dataclass
class _Page:
    rng: random.Random
    next_id: int = 2  # 1 is the document, 2 its doctype
    ids: list[int] = field(default_factory=list)  # elements a visitor can touch

    def node_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def text(self, content: str) -> dict[str, Any]:
        return {"type": 3, "textContent": content, "id": self.node_id()}

    def el(
        self, tag: str, attrs: dict[str, Any] | None = None, *children: dict[str, Any]
    ) -> dict[str, Any]:
        node_id = self.node_id()
        if tag in ("a", "button", "input", "img"):
            self.ids.append(node_id)
        return {
            "type": 2,
            "tagName": tag,
            "attributes": attrs or {},
            "childNodes": list(children),
            "id": node_id,
        }


def product_name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS).title()} {rng.choice(COLOURS)} {rng.choice(THINGS)}"


def _card(p: _Page, origin: str) -> dict[str, Any]:
    rng = p.rng
    sku = rng.randrange(10_000, 99_999)
    return p.el(
        "div",
        {"class": "card"},
        p.el("img", {"src": f"{origin}/img/{sku}.jpg", "alt": product_name(rng)}),
        p.el("a", {"href": f"{origin}/p/{sku}"}, p.text(product_name(rng))),
        p.el(
            "span", {"class": "price"}, p.text(f"${rng.randrange(9, 400)}.{rng.randrange(100):02d}")
        ),
        p.el("button", {"class": "btn", "type": "button"}, p.text("Add to cart")),
    )


def _main(p: _Page, template: str, origin: str) -> dict[str, Any]:
    rng = p.rng
    crumbs = p.el("div", {"class": "breadcrumb"}, p.text(f"Home / {template.title()}"))
    if template in ("home", "category"):
        cards = [_card(p, origin) for _ in range(rng.randrange(8, 24))]
        return p.el("main", {}, crumbs, p.el("div", {"class": "grid"}, *cards))
    if template == "product":
        bullets = [p.el("li", {}, p.text(" ".join(rng.choices(WORDS, k=6)))) for _ in range(5)]
        return p.el(
            "main",
            {},
            crumbs,
            p.el("h1", {}, p.text(product_name(rng))),
            p.el("ul", {}, *bullets),
            _card(p, origin),
            p.el("div", {"class": "grid"}, *[_card(p, origin) for _ in range(4)]),
        )
    if template in ("cart", "checkout"):
        rows = [
            p.el(
                "div",
                {"class": "form-row"},
                p.el("label", {}, p.text(label)),
                p.el("input", {"type": "text", "name": label.lower(), "value": ""}),
            )
            for label in ("Name", "Street", "City", "Postcode", "Email")
        ]
        return p.el(
            "main",
            {},
            crumbs,
            *[_card(p, origin) for _ in range(rng.randrange(1, 4))],
            p.el("form", {}, *rows),
        )
    paragraphs = [
        p.el("p", {}, p.text(" ".join(rng.choices(WORDS + THINGS, k=40)))) for _ in range(6)
    ]
    return p.el("main", {}, crumbs, p.el("article", {"class": "post"}, *paragraphs))


def page_recording(rng: random.Random, template: str, start_ms: int, seconds: int) -> list[Event]:
    """One page view: Meta, FullSnapshot, then `seconds` of a visitor's activity."""
    origin = "https://shop.example"
    p = _Page(rng)
    links = [p.el("a", {"href": f"{origin}/{t}"}, p.text(t.title())) for t in TEMPLATES]
    counter = p.text("0")
    body = p.el(
        "body",
        {},
        p.el(
            "header",
            {"class": "site-header"},
            p.el("nav", {"class": "site-nav"}, *links),
            p.el("span", {"class": "cart-count"}, counter),
        ),
        _main(p, template, origin),
        p.el(
            "footer",
            {"class": "site-footer"},
            p.text("© Shop Example · Returns · Shipping · Contact"),
        ),
    )
    head = p.el(
        "head",
        {},
        p.el("title", {}, p.text(f"{template.title()} · Shop Example")),
        p.el("style", {"_cssText": STYLE}),
        p.el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
    )
    html = p.el("html", {"lang": "en"}, head, body)
    doc = {
        "type": 0,
        "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2}, html],
        "id": 1,
    }
    width, height = rng.choice([(1280, 800), (1440, 900), (390, 844)])
    events: list[Event] = [
        {
            "type": 4,
            "timestamp": start_ms,
            "data": {"href": f"{origin}/{template}", "width": width, "height": height},
        },
        {
            "type": 2,
            "timestamp": start_ms + 5,
            "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}},
        },
    ]
    x, y, scroll, cart = width // 2, height // 2, 0, 0
    body_id = body["id"]
    for second in range(seconds):
        t = start_ms + 1000 * (second + 1)
        positions = []
        for step in range(rng.randrange(0, 10)):
            x = max(0, min(width, x + rng.randrange(-40, 41)))
            y = max(0, min(height, y + rng.randrange(-30, 31)))
            positions.append({"x": x, "y": y, "id": rng.choice(p.ids), "timeOffset": -50 * step})
        if positions:
            events.append(
                {"type": 3, "timestamp": t, "data": {"source": 1, "positions": positions}}
            )
        roll = rng.random()
        if roll < 0.2:
            scroll = max(0, scroll + rng.randrange(-200, 600))
            events.append(
                {
                    "type": 3,
                    "timestamp": t + 10,
                    "data": {"source": 3, "id": 1, "x": 0, "y": scroll},
                }
            )
        elif roll < 0.3:
            target = rng.choice(p.ids)
            for step, kind in enumerate((1, 0, 2)):  # mouse down, up, click
                events.append(
                    {
                        "type": 3,
                        "timestamp": t + 20 + step,
                        "data": {
                            "source": 2,
                            "type": kind,
                            "id": target,
                            "x": x,
                            "y": y,
                            "pointerType": 0,
                        },
                    }
                )
            cart += 1
            toast = p.node_id()
            events.append(
                {
                    "type": 3,
                    "timestamp": t + 40,
                    "data": {
                        "source": 0,
                        "texts": [{"id": counter["id"], "value": str(cart)}],
                        "attributes": [],
                        "removes": [],
                        "adds": [
                            {
                                "parentId": body_id,
                                "nextId": None,
                                "node": {
                                    "type": 2,
                                    "tagName": "div",
                                    "attributes": {"class": "toast"},
                                    "childNodes": [],
                                    "id": toast,
                                },
                            },
                            {
                                "parentId": toast,
                                "nextId": None,
                                "node": {
                                    "type": 3,
                                    "textContent": f"Added {product_name(rng)} to your cart",
                                    "id": p.node_id(),
                                },
                            },
                        ],
                    },
                }
            )
        elif roll < 0.35:
            events.append(
                {
                    "type": 3,
                    "timestamp": t + 30,
                    "data": {
                        "source": 5,
                        "text": "*" * rng.randrange(3, 20),
                        "isChecked": False,
                        "id": rng.choice(p.ids),
                    },
                }
            )
        elif roll < 0.45:
            events.append(
                {
                    "type": 3,
                    "timestamp": t + 50,
                    "data": {
                        "source": 0,
                        "texts": [],
                        "removes": [],
                        "adds": [],
                        "attributes": [
                            {
                                "id": rng.choice(p.ids),
                                "attributes": {
                                    "class": rng.choice(["card", "card is-hover", "card is-active"])
                                },
                            }
                        ],
                    },
                }
            )
    return events


def site_sessions(
    seed: int, sessions: int, max_pages: int = 4, start_ms: int = 1_765_000_000_000
) -> list[list[list[Event]]]:
    """Sessions of visitors of the shop: each a list of page views' events."""
    rng = random.Random(seed)
    start = start_ms
    out = []
    for _ in range(sessions):
        pages = []
        for _ in range(rng.randrange(1, max_pages + 1)):
            seconds = rng.randrange(10, 120)
            pages.append(page_recording(rng, rng.choice(TEMPLATES), start, seconds))
            start += (seconds + 5) * 1000
        out.append(pages)
    return out
