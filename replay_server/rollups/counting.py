"""Counting a group's page-view facts into the rollups, inside the transaction
that records their chunks (chunks/rows.py), so each fact counts exactly once.

A page view is counted the first time facts of it arrive: a view of its path
that day, a session and a visitor of the path when the first of theirs that
day, the session's entry, exit and bounce. Later cuts add only what changed:
time on page, a deeper scroll (the view moves to a deeper bucket), clicks.
Entry and exit move when an earlier or later page view of the session is
counted, a bounce goes away with the second one, so the totals depend only on
what was recorded, not on how it was cut: `insights rebuild` gets the same.

Distinct visitors are decided against the stored rows (sessions and page
views already counted that day, by the visitor id the sessions table holds),
plus those counted earlier in the same group; the rollups hold only counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.models import PAGE_VIEWS, SESSIONS
from replay_server.enrich.behaviour import ChunkInsights
from replay_server.enrich.pagefacts import PageFacts
from replay_server.rollups.deltas import Deltas, PageKey, rollup_path

DAY_MS = 86_400_000
VIEW_COLUMNS = (
    "session_id", "page", "path", "started_ms", "ended_ms", "counted", "event_first_ms",
    "event_last_ms", "time_ms", "scroll_px", "page_height", "scroll_pct", "viewport_w",
    "viewport_h",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "site_id", "visitor_id", "started_ms", "device", "browser", "os", "country",
    "referrer_domain", "counted_pages",
)  # fmt: skip


@dataclass(frozen=True)
class SessionFacts:
    """One record's facts: the cut's page facts and the session's duration
    before and after its chunks were recorded."""

    sid: str
    insights: ChunkInsights
    duration_before: int
    duration_after: int


@dataclass
class _Session:
    row: dict[str, Any]
    views: dict[int, dict[str, Any]]
    counted_before: int
    dirty: set[int] = field(default_factory=set)


class GroupCounter:
    """Counts the facts of one group commit; `write` applies it."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self.deltas = Deltas()
        self.sessions: dict[str, _Session] = {}
        self._visitor_days: set[tuple[Any, ...]] = set()
        self._visitor_pages: set[tuple[Any, ...]] = set()
        # Read from the stored rows by _read_visits: a visitor's counted sessions
        # (session ids by day key) and counted page views (by page key).
        self._stored_visits: dict[tuple[Any, ...], set[str]] = {}
        self._stored_views: set[tuple[Any, ...]] = set()

    async def count(
        self,
        records: list[SessionFacts],
        sessions: dict[str, dict[str, Any]] | None = None,
        view_ends: dict[tuple[str, int], int] | None = None,
    ) -> set[tuple[str, int]]:
        """Count the records' facts. `sessions`: the rows (SESSION_COLUMNS) the
        caller already read, locked; `view_ends`: page views' new end times,
        written with the counted columns. Returns the page views whose end
        time it took over (one UPDATE of page_views for both)."""
        wanted = sorted({r.sid for r in records if r.insights.pages})
        await self._load(wanted, sessions or {})
        visitors = self._visitors_to_count(records)
        await self._lock_visitors(visitors)
        await self._read_visits(visitors)
        ended: set[tuple[str, int]] = set()
        for (sid, page), end in (view_ends or {}).items():
            session = self.sessions.get(sid)
            view = session.views.get(page) if session is not None else None
            if session is not None and view is not None:
                view["ended_ms"] = max(view["ended_ms"] or 0, end)
                session.dirty.add(page)
                ended.add((sid, page))
        for record in records:
            session = self.sessions.get(record.sid)
            if session is None or not record.insights.pages:
                continue
            was_counted = session.row["counted_pages"] > 0
            for page in sorted(record.insights.pages):
                view = session.views.get(page)
                if view is not None:
                    await self._page(session, view, record.insights.pages[page])
            if session.row["counted_pages"] > 0:
                before = record.duration_before if was_counted else 0
                if record.duration_after != before:
                    self.deltas.day(
                        _day_key(session.row), duration_ms=record.duration_after - before
                    )
        return ended

    async def write(self, dialect: str) -> None:
        await self.deltas.write(self.db, dialect)
        views = [
            {"b_sid": sid, "b_page": page, **{c: s.views[page][c] for c in _CHANGING}}
            for sid, s in sorted(self.sessions.items())
            for page in sorted(s.dirty)
        ]
        if views:
            await self.db.execute(_UPDATE_VIEW, views)
        counts = [
            {"b_id": sid, "counted_pages": s.row["counted_pages"]}
            for sid, s in sorted(self.sessions.items())
            if s.row["counted_pages"] != s.counted_before
        ]
        if counts:
            await self.db.execute(_UPDATE_SESSION, counts)

    def _visitors_to_count(self, records: list[SessionFacts]) -> dict[tuple[int, str], set[int]]:
        """The visitors (site, visitor id) with a page view first counted in this
        group, and the days at stake for each (the session's and its views')."""
        visitors: dict[tuple[int, str], set[int]] = {}
        for record in records:
            session = self.sessions.get(record.sid)
            if session is None:
                continue
            row = session.row
            for page in record.insights.pages:
                view = session.views.get(page)
                if view is not None and not view["counted"]:
                    days = visitors.setdefault((row["site_id"], row["visitor_id"]), set())
                    days.update((row["started_ms"] // DAY_MS, _day(view)))
        return visitors

    async def _lock_visitors(self, visitors: dict[tuple[int, str], set[int]]) -> None:
        """PostgreSQL: whether a visitor was already counted that day is decided
        under a lock per visitor, so two nodes counting two sessions of one
        visitor at once do not both count them. Taken in one order, after the
        session rows (every group locks those first): no deadlock."""
        if not visitors or (await self.db.connection()).dialect.name != "postgresql":
            return  # SQLite has one writer
        for site, visitor in sorted(visitors):
            await self.db.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"{site}:{visitor}"},
            )

    async def _read_visits(self, visitors: dict[tuple[int, str], set[int]]) -> None:
        """What the stored rows say of these visitors on the days at stake: their
        counted sessions and page views. Two statements for the group rather than
        two per page view counted (most groups count a new view of each session)."""
        if not visitors:
            return
        days = set().union(*visitors.values())
        window = {"b_from": min(days) * DAY_MS, "b_to": (max(days) + 1) * DAY_MS}
        by_site: dict[int, list[str]] = {}
        for site, visitor in sorted(visitors):
            by_site.setdefault(site, []).append(visitor)
        for site, ids in by_site.items():
            for part in range(0, len(ids), _VISITORS_PER_STATEMENT):
                params = {
                    "b_site_id": site,
                    "b_visitors": ids[part : part + _VISITORS_PER_STATEMENT],
                }
                for row in await self.db.execute(_VISITED_SESSIONS, {**params, **window}):
                    values = dict(row._mapping)
                    self._stored_visits.setdefault(
                        (*_day_key(values), values["visitor_id"]), set()
                    ).add(values["id"])
                for row in await self.db.execute(_VIEWED_PATHS, {**params, **window}):
                    self._stored_views.add(
                        (site, row.started_ms // DAY_MS, rollup_path(row.path), row.device,
                         row.visitor_id)
                    )  # fmt: skip

    async def _load(self, sids: list[str], known: dict[str, dict[str, Any]]) -> None:
        if not sids:
            return
        missing = [sid for sid in sids if sid not in known]
        rows = dict(known)
        if missing:
            found = await self.db.execute(
                select(*(SESSIONS.c[c] for c in SESSION_COLUMNS)).where(SESSIONS.c.id.in_(missing))
            )
            rows.update({row.id: dict(row._mapping) for row in found})
        for sid in sids:
            values = rows.get(sid)
            if values is not None:
                values = {c: values[c] for c in SESSION_COLUMNS}
                self.sessions[sid] = _Session(values, {}, values["counted_pages"])
        views = await self.db.execute(_LOAD_VIEWS, {"b_sids": sids})
        for view in views:
            session = self.sessions.get(view.session_id)
            if session is not None:
                session.views[view.page] = dict(view._mapping)

    async def _page(self, session: _Session, view: dict[str, Any], facts: PageFacts) -> None:
        row = session.row
        site, device, path = row["site_id"], row["device"], rollup_path(view["path"])
        day = view["started_ms"] // DAY_MS
        key: PageKey = (site, day, path, device)
        if not view["counted"]:
            await self._count_view(session, view, key)
        session.dirty.add(view["page"])
        d = self.deltas
        # Time on page: the span of its events so far.
        if facts.first_ts:
            first = min(view["event_first_ms"] or facts.first_ts, facts.first_ts)
            last = max(view["event_last_ms"] or 0, facts.last_ts)
            view["event_first_ms"], view["event_last_ms"] = first, last
            span = max(0, last - first)
            if span != view["time_ms"]:
                d.page(key, time_ms=span - view["time_ms"])
                view["time_ms"] = span
        if facts.viewport is not None:
            if view["viewport_h"] is None:
                d.page(key, fold_sum=facts.viewport[1], fold_views=1)
            view["viewport_w"], view["viewport_h"] = facts.viewport
        # Scroll depth: the view moves to the bucket of its deepest scroll.
        view["scroll_px"] = max(view["scroll_px"], facts.max_bottom)
        view["page_height"] = max(view["page_height"], facts.page_height)
        depth = scroll_percent(view["scroll_px"], view["page_height"])
        if depth != view["scroll_pct"]:
            if view["scroll_pct"] >= 0:
                d.scroll((site, path, device, day, view["scroll_pct"]), -1)
            d.scroll((site, path, device, day, depth), 1)
            view["scroll_pct"] = depth
        sid, page = row["id"], view["page"]
        for selector, (clicks, rage, x_sum, y_sum) in facts.elements.items():
            d.page(key, clicks=clicks, rage_clicks=rage)
            d.element(
                (site, path, device, day, selector),
                clicks=clicks, rage_clicks=rage, x_sum=x_sum, y_sum=y_sum,
            )  # fmt: skip
            d.click(sid, page, selector, site, path, clicks)
        for (cell_x, cell_y), clicks in facts.cells.items():
            d.point(site, path, device, day, cell_x, cell_y, clicks)
        for selector, n in facts.dead.items():
            d.page(key, dead_clicks=n)
            d.element((site, path, device, day, selector), dead_clicks=n)
        for selector, n in facts.errors.items():
            d.page(key, error_clicks=n)
            d.element((site, path, device, day, selector), error_clicks=n)

    async def _count_view(self, session: _Session, view: dict[str, Any], key: PageKey) -> None:
        row = session.row
        d = self.deltas
        day_key = _day_key(row)
        counted = [v for v in session.views.values() if v["counted"]]
        if not counted:
            d.day(day_key, sessions=1, bounces=1)
            if self._first_visit_of_day(row):
                d.day(day_key, visitors=1)
        elif len(counted) == 1:
            entry = counted[0]
            d.day(day_key, bounces=-1)
            d.page(_page_key(row, entry), bounces=-1)
        d.day(day_key, page_views=1)
        d.page(key, views=1)
        same_day_path = [
            v for v in counted if rollup_path(v["path"]) == key[2] and _day(v) == key[1]
        ]
        if not same_day_path:
            d.page(key, sessions=1)
        if self._first_view_of_day(row, key):
            d.page(key, visitors=1)
        if not counted:
            d.page(key, entries=1, exits=1, bounces=1)
        else:
            first = min(counted, key=lambda v: v["page"])
            last = max(counted, key=lambda v: v["page"])
            if view["page"] < first["page"]:
                d.page(_page_key(row, first), entries=-1)
                d.page(key, entries=1)
            if view["page"] > last["page"]:
                d.page(_page_key(row, last), exits=-1)
                d.page(key, exits=1)
        view["counted"] = True
        row["counted_pages"] += 1

    def _first_visit_of_day(self, row: dict[str, Any]) -> bool:
        """No other session of the visitor with the same key counted that day."""
        marker = (*_day_key(row), row["visitor_id"])
        if marker in self._visitor_days:
            return False
        self._visitor_days.add(marker)
        return not self._stored_visits.get(marker, set()) - {row["id"]}

    def _first_view_of_day(self, row: dict[str, Any], key: PageKey) -> bool:
        """No page view of the path by the visitor (same device) counted that day."""
        marker = (*key, row["visitor_id"])
        if marker in self._visitor_pages:
            return False
        self._visitor_pages.add(marker)
        return marker not in self._stored_views


def _param(name: str) -> BindParameter[Any]:
    return bindparam(f"b_{name}")


# Statements built once (SQLAlchemy caches their compiled form; building them
# anew for every group commit costs the event loop more than running them).
_S, _V = SESSIONS.c, PAGE_VIEWS.c
_LOAD_VIEWS = select(*(_V[c] for c in VIEW_COLUMNS)).where(
    _V.session_id.in_(bindparam("b_sids", expanding=True))
)
_UPDATE_VIEW = update(PAGE_VIEWS).where(
    _V.session_id == bindparam("b_sid"), _V.page == bindparam("b_page")
)
_UPDATE_SESSION = update(SESSIONS).where(_S.id == bindparam("b_id"))
_VISITORS_PER_STATEMENT = 500  # bound parameters stay far below any driver's limit
_VISITED_SESSIONS = select(
    *(_S[c] for c in ("id", "site_id", "visitor_id", "started_ms", "device", "browser", "os",
                      "country", "referrer_domain"))
).where(
    _S.site_id == _param("site_id"),
    _S.visitor_id.in_(bindparam("b_visitors", expanding=True)),
    _S.counted_pages > 0,
    _S.started_ms >= _param("from"),
    _S.started_ms < _param("to"),
)  # fmt: skip
_VIEWED_PATHS = (
    select(_S.visitor_id, _S.device, _V.path, _V.started_ms)
    .select_from(PAGE_VIEWS.join(SESSIONS, _S.id == _V.session_id))
    .where(
        _S.site_id == _param("site_id"),
        _S.visitor_id.in_(bindparam("b_visitors", expanding=True)),
        _V.counted.is_(True),
        _V.started_ms >= _param("from"),
        _V.started_ms < _param("to"),
    )
)


_CHANGING = (
    "ended_ms", "counted", "event_first_ms", "event_last_ms", "time_ms", "scroll_px", "page_height",
    "scroll_pct", "viewport_w", "viewport_h",
)  # fmt: skip


def scroll_percent(bottom_px: int, height_px: int) -> int:
    """Deepest scroll as a percent of the page height; -1 when unknown."""
    if height_px <= 0 or bottom_px <= 0:
        return -1
    return min(100, bottom_px * 100 // height_px)


def _day(view: dict[str, Any]) -> int:
    return int(view["started_ms"]) // DAY_MS


def _day_key(row: dict[str, Any]) -> tuple[int, int, str, str, str, str, str]:
    return (
        row["site_id"],
        row["started_ms"] // DAY_MS,
        row["device"],
        row["browser"],
        row["os"],
        row["country"],
        row["referrer_domain"],
    )


def _page_key(row: dict[str, Any], view: dict[str, Any]) -> PageKey:
    return (row["site_id"], _day(view), rollup_path(view["path"]), row["device"])
