"""Recorded visits of known shape for the insight tests, sent through the real
ingest endpoint, and the figures they must give, counted by brute force from
the visits' own description (not by the code under test).

Every page has the same DOM (node ids fixed below); a page's actions are
clicks of known kind on known elements, two seconds apart:
- ok: one click, the page reacts (a node is added) 100 ms later;
- dead: one click, nothing reacts; a mouse move 1.5 s later proves it;
- rage: three clicks 100 ms apart on one spot, then a reaction;
- error: one click, an error 100 ms later, then a reaction.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
CLIENTS = {
    "desktop": (DESKTOP_UA, "Chrome", "desktop"),
    "mobile": (MOBILE_UA, "Mobile Safari", "mobile"),
}
COUNTRY_IPS = {"GB": "81.2.69.142", "US": "8.8.8.8", "DE": "5.9.0.1"}
GAP_MS = 2000

# node id -> the selector the server must name it by
SELECTORS = {
    7: "a#home",
    8: "html > body > nav > a.link:nth-child(2)",
    9: "html > body > nav > a.link:nth-child(3)",
    11: "button#buy",
    13: "html > body > main > div.card:nth-child(2) > button.add",
    15: "html > body > main > div.card:nth-child(3) > button.add",
}


def _el(
    node_id: int, tag: str, children: list[dict[str, Any]] | None = None, **attrs: str
) -> dict[str, Any]:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attrs,
        "childNodes": children or [],
    }


def _card(node_id: int) -> dict[str, Any]:
    button = _el(node_id + 1, "button", **{"class": "add"})
    return _el(node_id, "div", [button], **{"class": "card"})


def snapshot_node() -> dict[str, Any]:
    return {
        "type": 0,
        "id": 1,
        "childNodes": [
            {"type": 1, "id": 2, "name": "html", "publicId": "", "systemId": ""},
            _el(3, "html", [
                _el(4, "head"),
                _el(5, "body", [
                    _el(6, "nav", [_el(7, "a", id="home"), _el(8, "a", **{"class": "link"}),
                                   _el(9, "a", **{"class": "link"})]),
                    _el(10, "main", [
                        _el(11, "button", id="buy"),
                        _card(12), _card(14), _card(16),
                    ]),
                ]),
            ]),
        ],
    }  # fmt: skip


@dataclass
class Action:
    kind: str  # ok | dead | rage | error
    node: int
    x: int = 100
    y: int = 200


@dataclass
class Page:
    path: str
    actions: list[Action] = field(default_factory=list)
    scroll_y: int = 0
    height: int = 0  # the page-size event's height; 0 sends none
    viewport: tuple[int, int] = (1280, 1000)


@dataclass
class Visit:
    visitor: str
    client: str  # desktop | mobile
    country: str
    referrer: str
    pages: list[Page]
    sid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # filled in by send(): (first, last) event time of each page
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def device(self) -> str:
        return CLIENTS[self.client][2]

    @property
    def browser(self) -> str:
        return CLIENTS[self.client][1]


def page_events(page: Page, start: int) -> list[dict[str, Any]]:
    w, h = page.viewport
    meta = {"href": f"https://site.test{page.path}", "width": w, "height": h}
    snapshot = {"node": snapshot_node(), "initialOffset": {"top": 0, "left": 0}}
    events: list[dict[str, Any]] = [
        {"type": 4, "timestamp": start, "data": meta},
        {"type": 2, "timestamp": start + 1, "data": snapshot},
    ]
    if page.height:
        events.append(_custom(start + 2, "page-size", {"height": page.height}))
    t = start + GAP_MS
    added = 1000
    for action in page.actions:
        clicks = 3 if action.kind == "rage" else 1
        for i in range(clicks):
            events.append(_click(t + 100 * i, action))
        if action.kind == "error":
            events.append(_custom(t + 100, "error", {"message": "boom", "source": "app.js"}))
        if action.kind == "dead":
            events.append(_move(t + 1500))
        else:
            events.append(_mutation(t + 100 * clicks + 50, added))
            added += 1
        t += GAP_MS
    if page.scroll_y:
        events.append(
            {"type": 3, "timestamp": t, "data": {"source": 3, "id": 1, "x": 0, "y": page.scroll_y}}
        )
    events.append(_move(t + 500))
    return events


def _click(ts: int, action: Action) -> dict[str, Any]:
    data = {"source": 2, "type": 2, "id": action.node, "x": action.x, "y": action.y}
    return {"type": 3, "timestamp": ts, "data": data}


def _move(ts: int) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 1, "positions": [{"x": 1, "y": 1, "id": 5, "timeOffset": 0}]},
    }


def _mutation(ts: int, node_id: int) -> dict[str, Any]:
    node = {"type": 2, "id": node_id, "tagName": "span", "attributes": {}, "childNodes": []}
    data = {
        "source": 0,
        "texts": [],
        "attributes": [],
        "removes": [],
        "adds": [{"parentId": 10, "nextId": None, "node": node}],
    }
    return {"type": 3, "timestamp": ts, "data": data}


def _custom(ts: int, tag: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": 5, "timestamp": ts, "data": {"tag": tag, "payload": payload}}


async def send(
    client: TestClient[Any, Any], site_key: str, origin: str, visit: Visit, start: int
) -> None:
    """Each page view as one POST /ingest/batch (hello + its batch)."""
    ua = CLIENTS[visit.client][0]
    t = start
    for index, page in enumerate(visit.pages):
        events = page_events(page, t)
        visit.spans.append((events[0]["timestamp"], events[-1]["timestamp"]))
        hello = {
            "t": "hello", "v": 1, "site": site_key, "sid": visit.sid, "vid": visit.visitor,
            "page": index, "url": f"{origin}{page.path}", "referrer": visit.referrer,
            "title": page.path, "viewport": list(page.viewport), "screen": [1920, 1080],
            "lang": "en", "tz": "UTC", "clock": t,
        }  # fmt: skip
        body = {"hello": hello, "batches": [{"seq": index, "page": index, "events": events}]}
        response = await client.post(
            "/ingest/batch",
            data=json.dumps(body),
            headers={
                "Origin": origin,
                "Content-Type": "text/plain",
                "User-Agent": ua,
                "X-Forwarded-For": COUNTRY_IPS[visit.country],
            },
        )
        assert response.status == 200, await response.text()
        t = events[-1]["timestamp"] + 1000


# -- brute force ---------------------------------------------------------------


def referrer_domain(referrer: str) -> str:
    host = referrer.split("/")[2] if "://" in referrer else ""
    return host.removeprefix("www.")


def action_counts(actions: list[Action]) -> Counter[str]:
    c: Counter[str] = Counter()
    for a in actions:
        c["clicks"] += 3 if a.kind == "rage" else 1
        c["rage_clicks"] += a.kind == "rage"
        c["dead_clicks"] += a.kind == "dead"
        c["error_clicks"] += a.kind == "error"
    return c


def expected_stats(visits: list[Visit]) -> dict[str, Any]:
    """Every figure of /stats, counted from the visits (one UTC day: today)."""
    sessions = len(visits)
    visitor_days = {
        (v.device, v.browser, v.country, referrer_domain(v.referrer), v.visitor) for v in visits
    }
    page_views = sum(len(v.pages) for v in visits)
    bounces = sum(len(v.pages) == 1 for v in visits)
    durations = [v.spans[-1][1] - v.spans[0][0] for v in visits]
    pages: dict[str, Counter[str]] = defaultdict(Counter)
    page_visitors: dict[str, set[tuple[str, str]]] = defaultdict(set)
    page_sessions: dict[str, set[str]] = defaultdict(set)
    elements: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for v in visits:
        for i, page in enumerate(v.pages):
            p = pages[page.path]
            p["views"] += 1
            p["entries"] += i == 0
            p["exits"] += i == len(v.pages) - 1
            p["bounces"] += len(v.pages) == 1
            p["time_ms"] += v.spans[i][1] - v.spans[i][0]
            p.update(action_counts(page.actions))
            page_visitors[page.path].add((v.device, v.visitor))
            page_sessions[page.path].add(v.sid)
            for a in page.actions:
                elements[(page.path, SELECTORS[a.node])].update(action_counts([a]))
    page_rows = []
    for path, p in pages.items():
        page_rows.append({
            "path": path, "views": p["views"], "visitors": len(page_visitors[path]),
            "sessions": len(page_sessions[path]), "entries": p["entries"], "exits": p["exits"],
            "bounces": p["bounces"], "avg_time_ms": p["time_ms"] // p["views"],
            "clicks": p["clicks"], "rage_clicks": p["rage_clicks"], "dead_clicks": p["dead_clicks"],
            "error_clicks": p["error_clicks"],
        })  # fmt: skip
    page_rows.sort(key=lambda r: (-r["views"], r["path"]))

    def breakdown(key: Any) -> list[dict[str, Any]]:
        counts = Counter(key(v) for v in visits)
        return sorted(
            ({"name": k, "sessions": n} for k, n in counts.items()),
            key=lambda r: (-r["sessions"], r["name"]),
        )

    frustrated = [
        {"path": path, "selector": sel, "rage_clicks": c["rage_clicks"],
         "dead_clicks": c["dead_clicks"], "error_clicks": c["error_clicks"]}
        for (path, sel), c in elements.items()
        if c["rage_clicks"] + c["dead_clicks"] + c["error_clicks"]
    ]  # fmt: skip
    frustrated.sort(
        key=lambda r: (
            -(r["rage_clicks"] + r["dead_clicks"] + r["error_clicks"]),
            r["path"],
            r["selector"],
        )
    )
    frustrated_pages = [
        {k: r[k] for k in ("path", "rage_clicks", "dead_clicks", "error_clicks")}
        for r in page_rows if r["rage_clicks"] + r["dead_clicks"] + r["error_clicks"]
    ]  # fmt: skip
    frustrated_pages.sort(
        key=lambda r: (-(r["rage_clicks"] + r["dead_clicks"] + r["error_clicks"]), r["path"])
    )
    return {
        "totals": {
            "sessions": sessions,
            "visitors": len(visitor_days),
            "page_views": page_views,
            "bounce_rate": round(bounces / sessions, 4),
            "avg_session_ms": sum(durations) // sessions,
        },
        "pages": page_rows,
        "referrers": breakdown(lambda v: referrer_domain(v.referrer)),
        "countries": breakdown(lambda v: v.country),
        "devices": breakdown(lambda v: v.device),
        "browsers": breakdown(lambda v: v.browser),
        "frustration": {"pages": frustrated_pages[:10], "elements": frustrated[:10]},
    }
