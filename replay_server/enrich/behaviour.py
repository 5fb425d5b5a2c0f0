"""Behaviour metrics of a session, computed over the events of each chunk cut:
clicks, inputs, rage clicks, dead clicks, errors and active time.

Pure functions over rrweb events. The little state that a metric needs across
chunk boundaries (recent clicks, clicks still waiting for a reaction, the last
interaction) lives in an `InsightCarry` the caller keeps per session, so a rage
click whose clicks fall into two chunks is still found. With `facts` on, the
analysis also gives each page view's facts for the insight rollups
(pagefacts.py): clicks with their element, dead and error clicks by element,
scroll depth, page height, viewport and time span.

Definitions:
- click: IncrementalSnapshot, source MouseInteraction, type Click.
- input: IncrementalSnapshot, source Input (one per value change).
- rage click: >= 3 clicks within 1 s, each within 30 px of the latest one;
  one burst counts once however long it goes on.
- dead click: a click after which, within 1 s, nothing reacts: no DOM mutation,
  no input, no focus change, no media change and no navigation (a new page's
  Meta or FullSnapshot). Decided only once a later event proves the second has
  passed, so a click at the very end of a recording is never called dead.
- error: a Custom event with tag "error" (the recorder's uncaught errors and
  unhandled rejections).
- error click: the latest click before an error, if within 1 s of it (each
  click at most once).
- active time: the sum of gaps between consecutive interactions (mouse,
  scroll, input, touch, drag) that are at most 5 s apart; longer gaps are idle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from replay_server.enrich import pagefacts
from replay_server.enrich.pagefacts import PageFacts, PageState
from replay_server.snapshot import EventType
from replay_server.spool.records import SpoolEntry

RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30.0
DEAD_CLICK_MS = 1000
ERROR_CLICK_MS = 1000
IDLE_GAP_MS = 5000

# rrweb IncrementalSource and MouseInteractions values (@rrweb/types 2.1.6)
SOURCE_MUTATION = 0
SOURCE_MOUSE_MOVE = 1
SOURCE_MOUSE_INTERACTION = 2
SOURCE_SCROLL = 3
SOURCE_INPUT = 5
SOURCE_TOUCH_MOVE = 6
SOURCE_MEDIA = 7
SOURCE_DRAG = 12
CLICK = 2
FOCUS = 5
# Plain ints for the per-event loop (an enum member read costs ~10x a constant).
NAVIGATION_TYPES = frozenset({int(EventType.META), int(EventType.FULL_SNAPSHOT)})
META = int(EventType.META)
FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)
CUSTOM = int(EventType.CUSTOM)
INCREMENTAL = int(EventType.INCREMENTAL_SNAPSHOT)
INTERACTION_SOURCES = frozenset(
    {
        SOURCE_MOUSE_MOVE,
        SOURCE_MOUSE_INTERACTION,
        SOURCE_SCROLL,
        SOURCE_INPUT,
        SOURCE_TOUCH_MOVE,
        SOURCE_DRAG,
    }
)


# A click still waiting to be called dead, or that an error may follow: (ts, page, selector).
PendingClick = tuple[float, int, str]


@dataclass
class InsightCarry:
    """What one chunk's analysis leaves for the next one of the same session."""

    recent_clicks: list[tuple[float, float, float]] = field(default_factory=list)
    in_rage_burst: bool = False
    waiting_clicks: list[PendingClick] = field(default_factory=list)
    last_interaction_ms: float | None = None
    last_click: PendingClick | None = None  # an error within 1 s makes it an error click
    page: PageState = field(default_factory=PageState)


@dataclass
class ChunkInsights:
    """Counts to add to the session's columns."""

    clicks: int = 0
    inputs: int = 0
    rage_clicks: int = 0
    dead_clicks: int = 0
    errors: int = 0
    active_ms: int = 0
    pages: dict[int, PageFacts] = field(default_factory=dict)  # with `facts` on

    def add(self, other: ChunkInsights) -> None:
        self.clicks += other.clicks
        self.inputs += other.inputs
        self.rage_clicks += other.rage_clicks
        self.dead_clicks += other.dead_clicks
        self.errors += other.errors
        self.active_ms += other.active_ms
        for page, facts in other.pages.items():
            if page in self.pages:
                self.pages[page].merge(facts)
            else:
                self.pages[page] = facts


def analyse_batches(
    batches: Iterable[SpoolEntry], carry: InsightCarry, facts: bool = True
) -> ChunkInsights:
    """The counts of one cut's batches (CPU work: run it in a thread)."""
    by_page: dict[int, list[dict[str, Any]]] = {}
    for batch in batches:
        by_page.setdefault(batch.page, []).extend(batch.events)
    return analyse_pages(carry, by_page.items(), facts)


def analyse_pages(
    carry: InsightCarry, pages: Iterable[tuple[int, list[dict[str, Any]]]], facts: bool = True
) -> ChunkInsights:
    """Analyse the events of a cut, page by page in page order (a later page
    means the visitor navigated); events are sorted by timestamp here."""
    total = ChunkInsights()
    for page, events in sorted(pages, key=lambda pe: pe[0]):
        ordered = sorted(events, key=_timestamp)
        total.add(analyse_events(carry, ordered, page if facts else None))
    return total


def analyse_events(
    carry: InsightCarry, events: list[dict[str, Any]], page: int | None = None
) -> ChunkInsights:
    """Analyse events in timestamp order, updating `carry`. With a `page`, the
    result holds that page view's facts too."""
    out = ChunkInsights()
    state = carry.page
    facts: PageFacts | None = None
    if page is not None and events:
        pagefacts.on_page(state, page)
        facts = pagefacts.facts_of(out.pages, page)
        pagefacts.add_time_span(facts, _timestamp(events[0]), _timestamp(events[-1]))
    for event in events:
        ts = _timestamp(event)
        _expire_waiting(carry, out, ts)
        kind = event.get("type")
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        if kind == INCREMENTAL:
            _incremental(carry, out, ts, data, facts)
        elif kind in NAVIGATION_TYPES:
            carry.waiting_clicks.clear()  # navigation (or a re-snapshot) reacted
            if facts is not None:
                if kind == META:
                    pagefacts.on_meta(state, facts, data)
                elif kind == FULL_SNAPSHOT:
                    pagefacts.on_full_snapshot(state, facts, data)
        elif kind == CUSTOM:
            if data.get("tag") == "error":
                out.errors += 1
                _error_click(carry, out, ts)
            elif facts is not None:
                pagefacts.on_custom(facts, data)
    return out


def _incremental(
    carry: InsightCarry,
    out: ChunkInsights,
    ts: float,
    data: dict[str, Any],
    facts: PageFacts | None,
) -> None:
    source = data.get("source")
    if source in INTERACTION_SOURCES:
        _interaction(carry, out, ts)
    if source in (SOURCE_MUTATION, SOURCE_INPUT, SOURCE_MEDIA):
        carry.waiting_clicks.clear()
    if facts is not None:
        if source == SOURCE_MUTATION:
            carry.page.tree.apply_mutation(data)
        elif source == SOURCE_SCROLL:
            pagefacts.on_scroll(carry.page, facts, data)
        elif source == pagefacts.SOURCE_VIEWPORT_RESIZE:
            pagefacts.on_viewport(carry.page, facts, data)
    if source == SOURCE_INPUT:
        out.inputs += 1
    if source != SOURCE_MOUSE_INTERACTION:
        return
    interaction = data.get("type")
    if interaction == FOCUS:
        carry.waiting_clicks.clear()
    elif interaction == CLICK:
        out.clicks += 1
        rage = _rage_click(carry, ts, _coordinate(data.get("x")), _coordinate(data.get("y")))
        if rage:
            out.rage_clicks += 1
        selector = ""
        if facts is not None:
            selector = pagefacts.add_click(carry.page, facts, data, rage)
        pending = (ts, carry.page.page, selector)
        carry.waiting_clicks.append(pending)
        carry.last_click = pending


def _error_click(carry: InsightCarry, out: ChunkInsights, ts: float) -> None:
    click = carry.last_click
    if click is None or not 0 <= ts - click[0] <= ERROR_CLICK_MS:
        return
    carry.last_click = None  # one error click per click
    _, page, selector = click
    if page >= 0:
        errors = pagefacts.facts_of(out.pages, page).errors
        errors[selector] = errors.get(selector, 0) + 1


def _interaction(carry: InsightCarry, out: ChunkInsights, ts: float) -> None:
    last = carry.last_interaction_ms
    if last is not None and 0 < ts - last <= IDLE_GAP_MS:
        out.active_ms += int(ts - last)
    if last is None or ts > last:
        carry.last_interaction_ms = ts


def _rage_click(carry: InsightCarry, ts: float, x: float, y: float) -> bool:
    """Record a click; True when it makes a new burst of rage clicks."""
    recent = [c for c in carry.recent_clicks if ts - c[0] <= RAGE_WINDOW_MS]
    near = sum(1 for _, cx, cy in recent if math.hypot(cx - x, cy - y) <= RAGE_RADIUS_PX)
    recent.append((ts, x, y))
    carry.recent_clicks = recent[-RAGE_CLICKS * 4 :]
    if near + 1 < RAGE_CLICKS:
        carry.in_rage_burst = False
        return False
    if carry.in_rage_burst:
        return False
    carry.in_rage_burst = True
    return True


def _expire_waiting(carry: InsightCarry, out: ChunkInsights, ts: float) -> None:
    """Clicks whose second has passed with no reaction are dead."""
    if not carry.waiting_clicks:
        return
    alive: list[PendingClick] = []
    for click in carry.waiting_clicks:
        if ts - click[0] <= DEAD_CLICK_MS:
            alive.append(click)
            continue
        out.dead_clicks += 1
        _, page, selector = click
        if page >= 0:
            dead = pagefacts.facts_of(out.pages, page).dead
            dead[selector] = dead.get(selector, 0) + 1
    carry.waiting_clicks = alive


def _coordinate(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _timestamp(event: dict[str, Any]) -> float:
    ts = event.get("timestamp", 0)
    return float(ts) if isinstance(ts, int | float) else 0.0
