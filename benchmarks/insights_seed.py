"""Insight rollups of realistic shape for benchmarks/insights.py.

The sessions and page views are those of the search benchmark's generator
(benchmarks/search_seed.py: Zipf-sized sites, 90 days, long-tail URLs); this
module adds what the ingest path would have recorded of them for issue 16 and
computes the rollup rows (insight_days, insight_pages, insight_elements,
insight_points, insight_scrolls) in Python, with the semantics of
/work/briefs/insights_contract.md, so the report endpoints are timed over the
same number and spread of rows as a server that ingested that traffic.

What is simulated per page view, from its own random stream (so the search
benchmark's rows stay the same for a given seed):
- a viewport from the device class's usual sizes (the fold);
- clicks (~4 per page view, none by bots) on the elements of the page's
  template (home, product, cart, checkout, search, blog, category, other):
  a handful of hot elements (nav links, the search box, the buy / checkout /
  pay buttons, the hamburger menu on phones) placed by a wide or narrow
  layout, centred in a 1200 px container on wide screens, so positions
  spread with the viewport width; within the element's box, shifted down
  by a promo bar on some page views; a long tail of 120 other elements, and
  1% on no known element (selector ""); rage / dead / error fractions per
  element (dead clicks on images and text, errors on the pay button);
- the deepest scroll (bottom of the viewport, % of the page height): 18%
  never scroll, 7% reach the bottom, the rest spread towards the top;
- time on page (first to last event), within the page view's span;
- one chunk per page view (with its full snapshot), as ingest stores it.

Rows are produced per site (all of a site's sessions are generated together),
so the distinct-visitor sets stay small.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from benchmarks.search_seed import (
    CATEGORIES,
    DAY_MS,
    PAGE_COLUMNS,
    SESSION_COLUMNS,
    Generator,
    batches,
)

Row = tuple[object, ...]

SESSION_COLS = (*SESSION_COLUMNS, "counted_pages")
PAGE_COLS = (
    *PAGE_COLUMNS, "counted", "event_first_ms", "event_last_ms", "time_ms", "scroll_px",
    "page_height", "scroll_pct", "viewport_w", "viewport_h",
)  # fmt: skip
CHUNK_COLS = (
    "session_id", "idx", "page", "blob_key", "format_version", "first_seq", "last_seq",
    "first_ts", "last_ts", "event_count", "raw_bytes", "stored_bytes", "has_full_snapshot",
    "created_ms",
)  # fmt: skip
DAY_COLS = (
    "site_id", "day", "device", "browser", "os", "country", "referrer", "sessions", "visitors",
    "page_views", "bounces", "duration_ms",
)  # fmt: skip
PAGES_COLS = (
    "site_id", "day", "path", "device", "views", "sessions", "visitors", "entries", "exits",
    "bounces", "time_ms", "clicks", "rage_clicks", "dead_clicks", "error_clicks", "fold_sum",
    "fold_views",
)  # fmt: skip
ELEMENT_COLS = (
    "site_id", "path", "device", "day", "selector", "clicks", "rage_clicks", "dead_clicks",
    "error_clicks", "x_sum", "y_sum",
)  # fmt: skip
POINT_COLS = ("site_id", "path", "device", "day", "cell_x", "cell_y", "clicks")
SCROLL_COLS = ("site_id", "path", "device", "day", "depth", "views")
TABLES: dict[str, tuple[str, ...]] = {
    "sessions": SESSION_COLS,
    "page_views": PAGE_COLS,
    "chunks": CHUNK_COLS,
    "insight_days": DAY_COLS,
    "insight_pages": PAGES_COLS,
    "insight_elements": ELEMENT_COLS,
    "insight_points": POINT_COLS,
    "insight_scrolls": SCROLL_COLS,
}
ROLLUP_TABLES = tuple(t for t in TABLES if t.startswith("insight_"))

# (width, height, weight) of viewports per device class.
VIEWPORTS: dict[str, list[tuple[int, int, int]]] = {
    "desktop": [(1920, 1080, 35), (1536, 864, 20), (1440, 900, 15), (1366, 768, 15),
                (1280, 720, 8), (2560, 1440, 7)],
    "mobile": [(390, 844, 30), (412, 915, 20), (360, 800, 20), (414, 896, 15), (375, 667, 15)],
    "tablet": [(768, 1024, 40), (820, 1180, 30), (1024, 1366, 30)],
    "bot": [(1024, 768, 1)],
}  # fmt: skip
CONTAINER_PX = 1200
WIDE_FROM_PX = 900  # narrower viewports get the stacked (phone) layout
MEAN_CLICKS = 4.6  # floor of an exponential of this mean: ~4.1 clicks per page view
# Page height (px) per template and layout (wide, narrow).
HEIGHTS = {
    "home": (3200, 6400), "product": (2800, 5200), "cart": (1400, 1900),
    "checkout": (1600, 2400), "search": (4000, 8000), "blog": (5000, 9000),
    "category": (3600, 7200), "other": (2000, 3200),
}  # fmt: skip

# An element: selector, weight, box per layout (x and width as fractions of
# the container, y and height in px; None: not on that layout), rage, dead
# and error fractions of its clicks.
Box = tuple[float, int, float, int]


@dataclass(frozen=True)
class Element:
    selector: str
    weight: float
    wide: Box | None
    narrow: Box | None
    rage: float = 0.004
    dead: float = 0.01
    error: float = 0.001


HEADER = "html > body > header"
MAIN = "html > body > main"
FOOTER = "html > body > footer"


def _header(checkout: bool = False) -> list[Element]:
    logo = Element(f"{HEADER} > a.logo", 4, (0.0, 18, 0.12, 44), (0.38, 8, 0.24, 40))
    if checkout:
        return [logo]
    nav = [
        Element(f"{HEADER} > nav > a:nth-child({i + 1})", 3, (0.2 + i * 0.08, 28, 0.07, 24),
                (0.05, 120 + i * 52, 0.6, 44))
        for i in range(6)
    ]  # fmt: skip
    return [
        logo,
        *nav,
        Element(f"{HEADER} > form.search > input#q", 6, (0.7, 22, 0.18, 36), (0.04, 64, 0.92, 44)),
        Element(f"{HEADER} > a.cart", 4, (0.94, 22, 0.04, 36), (0.86, 8, 0.1, 40)),
        Element(f"{HEADER} > a.account", 2, (0.9, 22, 0.03, 36), None),
        Element(f"{HEADER} > button.menu", 10, None, (0.02, 8, 0.12, 44), rage=0.01),
    ]


def _footer(height: tuple[int, int]) -> list[Element]:
    return [
        Element(f"{FOOTER} > ul > li:nth-child({i + 1}) > a", 0.4,
                (0.1 + (i % 5) * 0.16, height[0] - 260 + (i // 5) * 32, 0.1, 20),
                (0.05, height[1] - 420 + i * 36, 0.5, 24))
        for i in range(10)
    ]  # fmt: skip


def _grid(
    selector: str,
    count: int,
    weight: float,
    wide: tuple[int, int, int],
    narrow: tuple[int, int, int],
) -> list[Element]:
    """Cards in a grid: (columns, top px, row height px) per layout."""
    out = []
    for i in range(count):
        (wc, wy, wh), (nc, ny, nh) = wide, narrow
        out.append(
            Element(
                f"{selector}:nth-child({i + 1}) > a",
                weight / (1 + i * 0.15),  # the first cards get more clicks
                ((i % wc) / wc + 0.01, wy + (i // wc) * wh, 1 / wc - 0.02, wh - 30),
                ((i % nc) / nc + 0.02, ny + (i // nc) * nh, 1 / nc - 0.04, nh - 24),
                dead=0.02,
            )
        )
    return out


def _templates() -> dict[str, list[Element]]:
    h = HEIGHTS
    p = f"{MAIN} > div.product"
    return {
        "home": [
            *_header(),
            Element(f"{MAIN} > section.hero > a.button", 12, (0.35, 420, 0.3, 56),
                    (0.1, 520, 0.8, 52)),
            Element(f"{MAIN} > section.hero > img", 3, (0.0, 100, 1.0, 300), (0.0, 120, 1.0, 380),
                    dead=0.6),
            *_grid(f"{MAIN} > section.categories > div", 8, 3, (4, 640, 320), (2, 700, 220)),
            *_grid(f"{MAIN} > section.products > div", 12, 2.5, (4, 1400, 420), (2, 1600, 360)),
            *_footer(h["home"]),
        ],
        "product": [
            *_header(),
            *(Element(f"{MAIN} > nav.breadcrumb > a:nth-child({i + 1})", 1,
                      (0.0 + i * 0.08, 100, 0.07, 20), (0.04 + i * 0.25, 116, 0.22, 20))
              for i in range(3)),
            Element(f"{p} > div.gallery > img.main", 8, (0.0, 140, 0.55, 600),
                    (0.0, 150, 1.0, 390), dead=0.35, rage=0.01),
            *(Element(f"{p} > div.gallery > ul > li:nth-child({i + 1}) > img", 2,
                      (0.0 + i * 0.14, 760, 0.12, 90), (0.02 + i * 0.24, 560, 0.22, 80))
              for i in range(4)),
            Element(f"{p} > div.info > h1", 1, (0.62, 150, 0.36, 80), (0.04, 660, 0.92, 70),
                    dead=0.7),
            Element(f"{p} > div.info > select#size", 7, (0.62, 430, 0.2, 44),
                    (0.04, 820, 0.92, 48)),
            Element(f"{p} > div.info > button#buy", 22, (0.62, 520, 0.3, 56),
                    (0.04, 900, 0.92, 52), rage=0.03, error=0.01),
            Element(f"{p} > div.info > button.wishlist", 2, (0.93, 520, 0.05, 56),
                    (0.8, 970, 0.16, 44)),
            Element(f"{MAIN} > section.reviews > button.tab", 3, (0.0, 1000, 0.2, 40),
                    (0.04, 1900, 0.5, 44)),
            *_grid(f"{MAIN} > section.related > div", 4, 1.5, (4, 1700, 420), (2, 3300, 360)),
            *_footer(h["product"]),
        ],
        "cart": [
            *_header(),
            *(Element(f"{MAIN} > table.lines > tbody > tr:nth-child({i + 1}) > td > input.qty",
                      2, (0.6, 220 + i * 140, 0.08, 40), (0.6, 260 + i * 200, 0.3, 44))
              for i in range(3)),
            *(Element(f"{MAIN} > table.lines > tbody > tr:nth-child({i + 1}) > td > a.remove",
                      1.5, (0.85, 220 + i * 140, 0.1, 30), (0.04, 330 + i * 200, 0.3, 30))
              for i in range(3)),
            Element(f"{MAIN} > form.coupon > input#coupon", 3, (0.55, 700, 0.25, 40),
                    (0.04, 900, 0.92, 44), error=0.05),
            Element(f"{MAIN} > div.summary > a#checkout", 25, (0.7, 820, 0.28, 56),
                    (0.04, 1100, 0.92, 56), rage=0.01),
            Element(f"{MAIN} > div.summary > a.continue", 3, (0.45, 830, 0.2, 36),
                    (0.04, 1180, 0.92, 40)),
        ],
        "checkout": [
            *_header(checkout=True),
            *(Element(f"{MAIN} > form#checkout > fieldset > input#{name}", 5,
                      (0.1, 180 + i * 80, 0.45, 44), (0.04, 160 + i * 90, 0.92, 48))
              for i, name in enumerate(["email", "name", "street", "zip", "city", "card"])),
            Element(f"{MAIN} > form#checkout > button#pay", 20, (0.1, 700, 0.45, 56),
                    (0.04, 760, 0.92, 56), rage=0.04, error=0.06),
            Element(f"{MAIN} > form#checkout > a.back", 2, (0.1, 780, 0.15, 30),
                    (0.04, 840, 0.4, 30)),
            Element(f"{MAIN} > aside.summary > p", 1, (0.65, 180, 0.33, 300),
                    (0.04, 1000, 0.92, 300), dead=0.8),
        ],
        "search": [
            *_header(),
            *(Element(f"{MAIN} > aside.filters > label:nth-child({i + 1}) > input", 2,
                      (0.0, 160 + i * 40, 0.18, 28), (0.04 + (i % 4) * 0.24, 130, 0.22, 36))
              for i in range(8)),
            *_grid(f"{MAIN} > ol.results > li", 20, 2.5, (3, 160, 360), (1, 200, 380)),
            *(Element(f"{MAIN} > nav.pages > a:nth-child({i + 1})", 0.8,
                      (0.4 + i * 0.05, 3700, 0.04, 30), (0.1 + i * 0.16, 7700, 0.14, 40))
              for i in range(5)),
        ],
        "blog": [
            *_header(),
            *(Element(f"{MAIN} > article > p:nth-child({i + 2})", 0.5,
                      (0.2, 300 + i * 300, 0.6, 240), (0.04, 300 + i * 560, 0.92, 500),
                      dead=0.8)
              for i in range(12)),
            *(Element(f"{MAIN} > article > p:nth-child({i * 2 + 2}) > a", 2,
                      (0.3 + (i % 3) * 0.1, 320 + i * 600, 0.1, 20),
                      (0.1 + (i % 3) * 0.2, 330 + i * 1120, 0.3, 22))
              for i in range(6)),
            *(Element(f"{MAIN} > div.share > a:nth-child({i + 1})", 1,
                      (0.2 + i * 0.05, 4100, 0.04, 36), (0.04 + i * 0.16, 7900, 0.14, 44))
              for i in range(3)),
            *_grid(f"{MAIN} > section.related > div", 3, 1.5, (3, 4300, 400), (1, 8000, 300)),
            *_footer(h["blog"]),
        ],
        "category": [
            *_header(),
            *(Element(f"{MAIN} > aside.filters > label:nth-child({i + 1}) > input", 2,
                      (0.0, 160 + i * 40, 0.18, 28), (0.04 + (i % 3) * 0.32, 130, 0.3, 36))
              for i in range(6)),
            *_grid(f"{MAIN} > section.products > div", 24, 2.0, (4, 200, 420), (2, 220, 360)),
            *(Element(f"{MAIN} > nav.pages > a:nth-child({i + 1})", 0.8,
                      (0.4 + i * 0.05, 3300, 0.04, 30), (0.1 + i * 0.16, 6700, 0.14, 40))
              for i in range(5)),
            *_footer(h["category"]),
        ],
        "other": [
            *_header(),
            *(Element(f"{MAIN} > section > ul > li:nth-child({i + 1}) > a", 2,
                      (0.1, 200 + i * 60, 0.5, 30), (0.04, 200 + i * 70, 0.92, 36))
              for i in range(10)),
            Element(f"{MAIN} > section > p", 1, (0.1, 900, 0.8, 300), (0.04, 1000, 0.92, 600),
                    dead=0.8),
            *_footer(h["other"]),
        ],
    }  # fmt: skip


TAIL_ELEMENTS = 120
TAIL_SHARE = 0.15
UNKNOWN_SHARE = 0.01
# (selector, x frac, y px, w frac, h px, rage, dead, error)
Spot = tuple[str, float, int, float, int, float, float, float]


@dataclass
class Layout:
    """The clickable spots of one template in one layout, with cumulative weights."""

    height: int
    spots: list[Spot]
    cum: list[float]


def _layouts() -> dict[tuple[str, bool], Layout]:
    out = {}
    for name, elements in _templates().items():
        for wide in (True, False):
            height = HEIGHTS[name][0 if wide else 1]
            spots: list[tuple[Spot, float]] = []
            for e in elements:
                box = e.wide if wide else e.narrow
                if box is not None:
                    spots.append(((e.selector, *box, e.rage, e.dead, e.error), e.weight))
            known = sum(w for _, w in spots)
            tail_weights = [1 / (rank**0.9) for rank in range(1, TAIL_ELEMENTS + 1)]
            scale = known * TAIL_SHARE / (1 - TAIL_SHARE) / sum(tail_weights)
            tail = random.Random(f"{name}-{wide}")  # the same tail whatever the seed
            for n, weight in enumerate(tail_weights):
                a, b = tail.randint(1, 9), tail.randint(1, 6)
                tag = tail.choice(["span", "div", "p", "img", "li", "a", "svg", "h2"])
                selector = f"{MAIN} > section:nth-child({a}) > div:nth-child({b}) > {tag}"
                if n % 3 == 0:
                    selector += f":nth-child({n // 3 + 1})"
                x, w = tail.random() * 0.9, tail.uniform(0.05, 0.3)
                y = tail.randint(100, int(height * 0.95))
                dead = 0.5 if tag in ("span", "div", "p", "img", "h2") else 0.03
                spots.append(((selector, x, y, w, tail.randint(20, 200), 0.002, dead, 0.002),
                              weight * scale))  # fmt: skip
            total = sum(w for _, w in spots)
            unknown = total * UNKNOWN_SHARE / (1 - UNKNOWN_SHARE)
            spots.append((("", 0.0, 0, 1.0, height, 0.0, 0.0, 0.0), unknown))
            cum, acc = [], 0.0
            for _, w in spots:
                acc += w
                cum.append(acc)
            out[name, wide] = Layout(height, [s for s, _ in spots], cum)
    return out


def template(path: str) -> str:
    if path == "/":
        return "home"
    if path.startswith("/products/"):
        return "product"
    if path == "/cart":
        return "cart"
    if path.startswith("/checkout"):
        return "checkout"
    if path == "/search":
        return "search"
    if path.startswith("/blog/"):
        return "blog"
    if path.count("/") == 1 and path[1:] in _CATEGORY_NAMES:
        return "category"
    return "other"


_CATEGORY_NAMES = frozenset(CATEGORIES)


@dataclass
class SiteRollup:
    """The rollup rows of one site, accumulated session by session."""

    site_id: int
    days: dict[tuple[object, ...], list[int]] = field(default_factory=dict)
    day_visitors: dict[tuple[object, ...], set[str]] = field(default_factory=dict)
    pages: dict[tuple[object, ...], list[int]] = field(default_factory=dict)
    page_visitors: dict[tuple[object, ...], set[str]] = field(default_factory=dict)
    elements: dict[tuple[object, ...], list[int]] = field(default_factory=dict)
    points: dict[tuple[object, ...], int] = field(default_factory=dict)
    scrolls: dict[tuple[object, ...], int] = field(default_factory=dict)

    def rows(self) -> dict[str, list[Row]]:
        s = self.site_id
        days = [
            (s, *k, v[0], len(self.day_visitors[k]), v[1], v[2], v[3])
            for k, v in sorted(self.days.items())
        ]
        pages = [
            (s, *k, v[0], v[1], len(self.page_visitors[k]), *v[2:])
            for k, v in sorted(self.pages.items())
        ]
        elements = [(s, *k, *v) for k, v in sorted(self.elements.items())]
        points = [(s, *k, v) for k, v in sorted(self.points.items())]
        scrolls = [(s, *k, v) for k, v in sorted(self.scrolls.items())]
        return {
            "insight_days": days,
            "insight_pages": pages,
            "insight_elements": elements,
            "insight_points": points,
            "insight_scrolls": scrolls,
        }


_S = {name: i for i, name in enumerate(SESSION_COLUMNS)}
_P = {name: i for i, name in enumerate(PAGE_COLUMNS)}


@dataclass
class Totals:
    sessions: int = 0
    page_views: int = 0
    clicks: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))


class InsightSimulator:
    """What ingest records of each generated session (clicks, scroll, time on
    page, viewport), folded into the rollups of its site."""

    def __init__(self, seed: int, chunks: bool = True) -> None:
        self.rng = random.Random(seed * 7919 + 16)
        self.layouts = _layouts()
        self.chunks = chunks
        self.path_templates: dict[str, str] = {}
        self.viewports = {
            d: ([(w, h) for w, h, _ in v], [float(x) for x in _cum([c for *_, c in v])])
            for d, v in VIEWPORTS.items()
        }
        self.totals = Totals()

    def session(
        self, rollup: SiteRollup, srow: Row, views: list[Row], chunk_rows: list[Row]
    ) -> tuple[Row, list[Row]]:
        """The session and page-view rows with the ingest-recorded columns
        filled, the session's chunk rows appended to `chunk_rows`, and the
        session counted into `rollup`."""
        rng = self.rng
        rand = rng.random
        sid = srow[_S["id"]]
        visitor = str(srow[_S["visitor_id"]])
        device = str(srow[_S["device"]])
        started = int(srow[_S["started_ms"]])  # type: ignore[call-overload]
        duration = int(srow[_S["duration_ms"]])  # type: ignore[call-overload]
        pages = len(views)
        sizes, cum = self.viewports.get(device, self.viewports["desktop"])
        vw, vh = rng.choices(sizes, cum_weights=cum)[0]
        wide = vw >= WIDE_FROM_PX
        cw = min(vw, CONTAINER_PX) if wide else vw
        off = (vw - cw) // 2
        clicking = device != "bot"
        day = started // DAY_MS
        key = (day, device, srow[_S["browser"]], srow[_S["os"]], srow[_S["country"]],
               srow[_S["referrer_domain"]])  # fmt: skip
        d = rollup.days.get(key)
        if d is None:
            d = rollup.days[key] = [0, 0, 0, 0]
            rollup.day_visitors[key] = set()
        d[0] += 1
        d[1] += pages
        d[2] += 1 if pages == 1 else 0
        d[3] += duration
        rollup.day_visitors[key].add(visitor)
        seen: set[tuple[object, ...]] = set()
        out_views = []
        s_clicks = s_rage = s_dead = s_error = 0
        elements, points = rollup.elements, rollup.points
        for view in views:
            page = int(view[_P["page"]])  # type: ignore[call-overload]
            path = str(view[_P["path"]])
            v_start = int(view[_P["started_ms"]])  # type: ignore[call-overload]
            v_end = int(view[_P["ended_ms"]])  # type: ignore[call-overload]
            v_day = v_start // DAY_MS
            tpl = self.path_templates.get(path)
            if tpl is None:
                tpl = self.path_templates[path] = template(path)
            layout = self.layouts[tpl, wide]
            height = int(layout.height * (0.95 + rand() * 0.1))
            # Time on page: first to last event of the page view.
            first = v_start + int(rand() * 400)
            span = max(0, v_end - first)
            last = first + int(span * (0.15 + 0.85 * rand()))
            # Deepest scroll, as the bottom of the viewport.
            roll = rand()
            if roll < 0.18 or not clicking:
                seen_px = vh
            elif roll < 0.25:
                seen_px = height
            else:
                seen_px = vh + int((height - vh) * rand() ** 1.7)
            seen_px = min(height, seen_px)
            depth = min(100, seen_px * 100 // height)
            # Clicks.
            n = int(rng.expovariate(1 / MEAN_CLICKS)) if clicking else 0
            clicks = rage = dead = error = 0
            if n:
                shift = 0 if rand() < 0.7 else 48
                for sel, bx, by, bw, bh, pr, pd, pe in rng.choices(
                    layout.spots, cum_weights=layout.cum, k=n
                ):
                    x = off + int((bx + rand() * bw) * cw)
                    y = by + int(rand() * bh) + (shift if by > 100 else 0)
                    if y >= height:
                        y = height - 1
                    r = rand()
                    fr = 1 if r < pr else 0
                    fd = 1 if pr <= r < pr + pd else 0
                    fe = 1 if pr + pd <= r < pr + pd + pe else 0
                    ek = (path, device, v_day, sel)
                    e = elements.get(ek)
                    if e is None:
                        e = elements[ek] = [0, 0, 0, 0, 0, 0]
                    e[0] += 1
                    e[1] += fr
                    e[2] += fd
                    e[3] += fe
                    e[4] += x
                    e[5] += y
                    pk = (path, device, v_day, x >> 4, y >> 4)
                    points[pk] = points.get(pk, 0) + 1
                    rage += fr
                    dead += fd
                    error += fe
                clicks = n
            s_clicks += clicks
            s_rage += rage
            s_dead += dead
            s_error += error
            pkey = (v_day, path, device)
            pg = rollup.pages.get(pkey)
            if pg is None:
                pg = rollup.pages[pkey] = [0] * 12
                rollup.page_visitors[pkey] = set()
            # views, sessions, entries, exits, bounces, time_ms, clicks, rage,
            # dead, error, fold_sum, fold_views (+ visitors from the set)
            pg[0] += 1
            if pkey not in seen:
                seen.add(pkey)
                pg[1] += 1
            pg[2] += 1 if page == 0 else 0
            pg[3] += 1 if page == pages - 1 else 0
            pg[4] += 1 if pages == 1 else 0
            pg[5] += last - first
            pg[6] += clicks
            pg[7] += rage
            pg[8] += dead
            pg[9] += error
            pg[10] += vh
            pg[11] += 1
            rollup.page_visitors[pkey].add(visitor)
            skey = (path, device, v_day, depth)
            rollup.scrolls[skey] = rollup.scrolls.get(skey, 0) + 1
            out_views.append(
                (*view, True, first, last, last - first, seen_px, height, depth, vw, vh)
            )
            if self.chunks:
                events = 30 + clicks * 4
                chunk_rows.append(
                    (sid, page, page, f"s/{rollup.site_id}/{sid}/{page * 3:012d}-p{page}-bench.rsc",
                     1, page * 3, page * 3 + 2, first, last, events, events * 400, events * 60,
                     True, last + 5_000)
                )  # fmt: skip
        self.totals.sessions += 1
        self.totals.page_views += pages
        self.totals.clicks += s_clicks
        out = list(srow)
        out[_S["viewport_w"]], out[_S["viewport_h"]] = vw, vh
        out[_S["screen_w"]], out[_S["screen_h"]] = vw, vh
        out[_S["click_count"]] = s_clicks
        out[_S["rage_click_count"]] = s_rage
        out[_S["dead_click_count"]] = s_dead
        out[_S["error_count"]] = s_error
        out.append(pages)
        return tuple(out), out_views


def _cum(weights: list[int]) -> list[int]:
    out, acc = [], 0
    for w in weights:
        acc += w
        out.append(acc)
    return out


def insight_batches(
    gen: Generator, sessions: int, sites: int, sim: InsightSimulator
) -> Iterator[dict[str, list[Row]]]:
    """Rows per table, in batches: sessions, page_views (and chunks) as the
    search generator makes them, ingest columns filled; a site's rollup rows
    in the batch where the next site starts (or a last one). `sim.totals`
    counts them."""
    rollup: SiteRollup | None = None
    for srows, vrows in batches(gen, sessions, sites):
        out: dict[str, list[Row]] = {"sessions": [], "page_views": [], "chunks": []}
        by_session: dict[object, list[Row]] = {}
        for v in vrows:
            by_session.setdefault(v[0], []).append(v)
        for srow in srows:
            site_id = int(srow[_S["site_id"]])  # type: ignore[call-overload]
            if rollup is None or rollup.site_id != site_id:
                if rollup is not None:
                    _emit(out, rollup, sim.totals)
                rollup = SiteRollup(site_id)
            s, views = sim.session(rollup, srow, by_session[srow[0]], out["chunks"])
            out["sessions"].append(s)
            out["page_views"].extend(views)
        for table in ("sessions", "page_views", "chunks"):
            sim.totals.rows[table] += len(out[table])
        yield out
    if rollup is not None:
        final: dict[str, list[Row]] = {}
        _emit(final, rollup, sim.totals)
        yield final


def _emit(out: dict[str, list[Row]], rollup: SiteRollup, totals: Totals) -> None:
    for table, rows in rollup.rows().items():
        out.setdefault(table, []).extend(rows)
        totals.rows[table] += len(rows)
