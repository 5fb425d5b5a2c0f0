"""Synthetic sessions and page views of realistic shape for benchmarks/search.py.

Many sites of Zipf-distributed size (the biggest holds ~18% of all sessions),
90 days of traffic, long-tail URLs (a few hot pages, thousands of product and
blog pages per site, search queries, UTM-tagged entries), and the browser /
OS / device / country mix of a typical European shop. Rows are generated as
tuples in the column order of SESSION_COLUMNS / PAGE_COLUMNS, in batches, so
that a loader can bulk-insert them (executemany on SQLite, COPY on PostgreSQL).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

DAY_MS = 86_400_000
SESSION_COLUMNS = (
    "id", "site_id", "visitor_id", "started_ms", "first_event_ms", "last_event_ms",
    "last_seen_ms", "ended_ms", "duration_ms", "page_count", "chunked_seq", "chunk_count",
    "event_count", "raw_bytes", "stored_bytes", "entry_url", "referrer", "user_agent",
    "browser", "os", "device", "viewport_w", "viewport_h", "screen_w", "screen_h", "lang",
    "tz", "browser_version", "country", "ip", "referrer_domain", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "exit_url", "click_count", "input_count",
    "rage_click_count", "dead_click_count", "error_count", "active_ms",
)  # fmt: skip
PAGE_COLUMNS = ("session_id", "page", "site_id", "url", "title", "started_ms", "ended_ms", "path")

# (browser, version, os, device, weight)
CLIENTS = [
    ("Chrome", "120", "Windows", "desktop", 30),
    ("Mobile Safari", "17", "iOS", "mobile", 22),
    ("Chrome Mobile", "120", "Android", "mobile", 18),
    ("Safari", "17", "Mac OS X", "desktop", 8),
    ("Edge", "120", "Windows", "desktop", 7),
    ("Firefox", "121", "Windows", "desktop", 5),
    ("Samsung Internet", "23", "Android", "mobile", 4),
    ("Mobile Safari", "16", "iOS", "tablet", 3),
    ("Firefox", "121", "Ubuntu", "desktop", 1),
    ("Googlebot", "2", "Other", "bot", 2),
]
COUNTRIES = [("DE", 30), ("US", 15), ("GB", 10), ("FR", 9), ("NL", 6), ("AT", 5), ("CH", 4),
             ("ES", 4), ("IT", 4), ("PL", 3), ("SE", 2), ("", 8)]  # fmt: skip
REFERRERS = [("", 45), ("google.com", 30), ("bing.com", 4), ("facebook.com", 5),
             ("instagram.com", 4), ("newsletter.example", 3), ("duckduckgo.com", 2),
             ("t.co", 2), ("reddit.com", 1)]  # fmt: skip
CATEGORIES = ["shoes", "jackets", "shirts", "trousers", "bags", "watches", "kitchen", "garden",
              "toys", "books", "lamps", "sofas", "beds", "bikes", "tools", "cameras"]  # fmt: skip
WORDS = ["blue", "red", "black", "white", "green", "classic", "slim", "premium", "vintage",
         "organic", "wool", "leather", "cotton", "steel", "oak", "linen", "retro", "urban",
         "alpine", "coastal", "nordic", "deluxe", "compact", "wireless", "smart",
         "eco"]  # fmt: skip
HOT_PATHS = [("/", 30), ("/cart", 8), ("/checkout", 5), ("/checkout/payment", 3),
             ("/checkout/confirmation", 2), ("/account", 2), ("/account/orders", 1),
             ("/help/shipping", 1), ("/help/returns", 1), ("/sale", 3)]  # fmt: skip


@dataclass
class SiteShape:
    id: int
    host: str
    products: list[str]
    posts: list[str]


@dataclass
class Samples:
    """Values the benchmark queries pick from (existing visitors, terms)."""

    visitors: dict[int, list[str]] = field(default_factory=dict)
    product_words: dict[int, list[str]] = field(default_factory=dict)


def site_sizes(sessions: int, sites: int) -> list[int]:
    weights = [1 / (rank**1.1) for rank in range(1, sites + 1)]
    total = sum(weights)
    sizes = [max(1, int(sessions * w / total)) for w in weights]
    sizes[0] += sessions - sum(sizes)
    return sizes


def make_site(rng: random.Random, site_id: int) -> SiteShape:
    products = [
        f"/products/{rng.choice(CATEGORIES)}/{rng.choice(WORDS)}-{rng.choice(WORDS)}-"
        f"{rng.choice(CATEGORIES)[:-1]}-{n}"
        for n in range(rng.randint(500, 4000))
    ]
    posts = [f"/blog/{rng.choice(WORDS)}-{rng.choice(WORDS)}-guide-{n}" for n in range(300)]
    return SiteShape(site_id, f"https://shop{site_id}.example", products, posts)


def _weighted(items: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [i[0] for i in items], [i[1] for i in items]


class Generator:
    def __init__(self, seed: int, now_ms: int) -> None:
        self.rng = random.Random(seed)
        self.now = now_ms
        self.countries = _weighted(COUNTRIES)
        self.referrers = _weighted(REFERRERS)
        self.hot = _weighted(HOT_PATHS)
        self.samples = Samples()

    def path(self, site: SiteShape) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return rng.choices(*self.hot)[0]
        if roll < 0.85:  # Zipf-ish over the catalogue: a few best sellers, a long tail
            index = min(len(site.products) - 1, int(rng.paretovariate(1.2)) - 1)
            if rng.random() < 0.5:
                index = rng.randrange(len(site.products))
            return site.products[index]
        if roll < 0.93:
            return f"/search?q={rng.choice(WORDS)}+{rng.choice(CATEGORIES)}"
        if roll < 0.98:
            return rng.choice(site.posts)
        return f"/{rng.choice(CATEGORIES)}"

    def site_rows(
        self, site: SiteShape, count: int
    ) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        rng = self.rng
        visitors = [
            str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(max(1, count // 3))
        ]
        self.samples.visitors[site.id] = visitors[:200]
        for _ in range(count):
            yield self.session(site, rng.choice(visitors))

    def session(
        self, site: SiteShape, visitor: str
    ) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
        rng = self.rng
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        started = self.now - int(rng.random() ** 1.3 * 90 * DAY_MS)
        pages = min(40, max(1, int(rng.expovariate(1 / 4.5)) + 1))
        paths = [self.path(site) for _ in range(pages)]
        referrer_domain = rng.choices(*self.referrers)[0]
        entry = site.host + paths[0]
        utm = ("", "", "")
        if rng.random() < 0.12:
            source = rng.choice(["newsletter", "google", "facebook"])
            utm = (source, "cpc", f"promo-{rng.randint(1, 40)}")
            entry += f"?utm_source={utm[0]}&utm_medium={utm[1]}&utm_campaign={utm[2]}"
        urls = [entry, *(site.host + p for p in paths[1:])]
        duration = int(min(4 * 3600_000, rng.lognormvariate(11.0, 1.3)))
        browser, version, os_name, device, _ = rng.choices(CLIENTS, [c[4] for c in CLIENTS])[0]
        live = started > self.now - 120_000
        ended = None if live else started + duration
        clicks = int(rng.expovariate(1 / 12))
        view_w, view_h = (390, 844) if device == "mobile" else (1440, 900)
        session = (
            sid, site.id, visitor, started, started, started + duration, started + duration,
            ended, duration, pages, pages * 3, pages, pages * 40, pages * 60_000,
            pages * 6_000, entry, f"https://{referrer_domain}/" if referrer_domain else "",
            "", browser, os_name, device, view_w, view_h, view_w, view_h, "de-DE",
            "Europe/Berlin", version, rng.choices(*self.countries)[0], "", referrer_domain,
            utm[0], utm[1], utm[2], "", "", urls[-1], clicks, int(rng.expovariate(1 / 5)),
            1 if rng.random() < 0.03 else 0, 1 if rng.random() < 0.1 else 0,
            1 if rng.random() < 0.05 else 0, int(duration * rng.random() * 0.6),
        )  # fmt: skip
        step = duration // pages
        views = [
            (sid, p, site.id, url, "", started + p * step, started + (p + 1) * step,
             paths[p].split("?")[0])
            for p, url in enumerate(urls)
        ]  # fmt: skip
        return session, views


def batches(
    gen: Generator, sessions: int, sites: int, size: int = 20_000
) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """(session rows, page-view rows) in batches; site ids are 1..sites. The
    generator's `samples` fill up as sites are generated."""
    batch_s: list[tuple[object, ...]] = []
    batch_p: list[tuple[object, ...]] = []
    for site_id, count in enumerate(site_sizes(sessions, sites), start=1):
        site = make_site(gen.rng, site_id)
        gen.samples.product_words[site_id] = [
            "-".join(p.rsplit("/", 1)[1].split("-")[1:3]) for p in site.products[:50]
        ]
        for session, views in gen.site_rows(site, count):
            batch_s.append(session)
            batch_p.extend(views)
            if len(batch_s) >= size:
                yield batch_s, batch_p
                batch_s, batch_p = [], []
    if batch_s:
        yield batch_s, batch_p


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[k]
