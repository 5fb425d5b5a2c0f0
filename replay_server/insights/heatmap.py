"""Heatmaps of one path at one device class: clicks by element (selector)
and by 16 px cell, or how far page views scrolled; and a stored recording of
that page to draw them over (the dashboard rebuilds it from our own snapshot,
so pages behind a login work)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, PageView, RecordedSession
from replay_server.db.rollup_tables import InsightElement, InsightPage, InsightPoint, InsightScroll
from replay_server.db.search import path_matches
from replay_server.enrich.pagefacts import CELL_PX
from replay_server.insights.filters import DAY_MS, ReportFilters
from replay_server.insights.parallel import run_queries
from replay_server.rollups.deltas import MAX_PATH

MAX_ELEMENTS = 500
MAX_POINTS = 5000
DEPTH_STEP = 5
# The page is drawn this long after its snapshot: what the page loads right
# after its first paint is in by then.
SNAPSHOT_SETTLE_MS = 2000


async def click_map(sessions: SessionFactory, f: ReportFilters) -> dict[str, Any]:
    """Elements, cells, page views and the snapshot, read at once (parallel.py)."""
    (elements, (views, _)), points, shot = await run_queries(
        sessions, f, _elements_and_views, _points, snapshot
    )
    return {
        "path": f.path,
        "device": f.device,
        "page_views": views,
        "elements": elements,
        "points": points,
        "snapshot": shot,
    }


async def _elements_and_views(
    db: AsyncSession, f: ReportFilters
) -> tuple[list[dict[str, Any]], tuple[int, int]]:
    """Two quick reads in one part: fewer parts than cores to run them on."""
    return await _elements(db, f), await _views_and_fold(db, f)


async def _elements(db: AsyncSession, f: ReportFilters) -> list[dict[str, Any]]:
    e = InsightElement
    clicks = func.sum(e.clicks)
    rows = await db.execute(
        select(
            e.selector,
            clicks,
            func.sum(e.rage_clicks),
            func.sum(e.dead_clicks),
            func.sum(e.error_clicks),
            func.sum(e.x_sum),
            func.sum(e.y_sum),
        )
        .where(*_days(f, e))
        .group_by(e.selector)
        .order_by(clicks.desc(), e.selector)
        .limit(MAX_ELEMENTS)
    )
    elements = []
    for selector, n, rage, dead, err, xs, ys in rows:
        n = int(n)
        elements.append(
            {
                "selector": selector,
                "clicks": n,
                "rage_clicks": int(rage),
                "dead_clicks": int(dead),
                "error_clicks": int(err),
                "x": int(xs) // n if n else 0,
                "y": int(ys) // n if n else 0,
            }
        )
    return elements


async def _points(db: AsyncSession, f: ReportFilters) -> list[dict[str, int]]:
    p = InsightPoint
    count = func.sum(p.clicks)
    cells = await db.execute(
        select(p.cell_x, p.cell_y, count)
        .where(*_days(f, p))
        .group_by(p.cell_x, p.cell_y)
        .order_by(count.desc(), p.cell_x, p.cell_y)
        .limit(MAX_POINTS)
    )
    half = CELL_PX // 2
    return [
        {"x": int(cx) * CELL_PX + half, "y": int(cy) * CELL_PX + half, "count": int(c)}
        for cx, cy, c in cells
    ]


async def scroll_map(sessions: SessionFactory, f: ReportFilters) -> dict[str, Any]:
    depths, (_, fold), shot = await run_queries(sessions, f, _depths, _views_and_fold, snapshot)
    return {
        "path": f.path,
        "device": f.device,
        "page_views": depths[0]["reached"] if depths else 0,
        "depths": depths,
        "fold_px": fold,
        "snapshot": shot,
    }


async def _depths(db: AsyncSession, f: ReportFilters) -> list[dict[str, Any]]:
    s = InsightScroll
    rows = await db.execute(
        select(s.depth, func.sum(s.views)).where(*_days(f, s)).group_by(s.depth)
    )
    by_depth = {int(depth): int(n) for depth, n in rows}
    total = sum(by_depth.values())
    depths = []
    for percent in range(0, 101, DEPTH_STEP):
        reached = sum(n for depth, n in by_depth.items() if depth >= percent)
        share = round(reached / total, 4) if total else 0.0
        depths.append({"percent": percent, "reached": reached, "share": share})
    return depths


async def snapshot(db: AsyncSession, f: ReportFilters) -> dict[str, Any] | None:
    """A counted page view of the path at the device class, in the range, whose
    full snapshot is stored; the deepest scrolled of the first few found (so
    the page drawn is likely its full length)."""
    v, s, c = PageView, RecordedSession, Chunk
    candidates = (
        select(v.session_id, v.page, v.viewport_w, v.viewport_h, v.event_last_ms, v.page_height)
        .join(s, s.id == v.session_id)
        .where(
            v.site_id == f.site_id,
            _page_path_is(f),
            v.counted.is_(True),
            v.started_ms >= f.first_day * DAY_MS,
            v.started_ms < (f.last_day + 1) * DAY_MS,
            s.device == f.device,
        )
        .limit(20)
        .subquery()
    )
    first_snapshot = func.min(c.first_ts)
    row = (
        await db.execute(
            select(candidates, first_snapshot)
            .join(
                c,
                and_(
                    c.session_id == candidates.c.session_id,
                    c.page == candidates.c.page,
                    c.has_full_snapshot.is_(True),
                ),
            )
            .group_by(*candidates.c)
            .order_by(candidates.c.page_height.desc(), candidates.c.session_id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    sid, page, width, height, last_ms, _, snapshot_ts = row
    ts = int(snapshot_ts) + SNAPSHOT_SETTLE_MS
    if last_ms is not None:
        ts = max(int(snapshot_ts), min(ts, int(last_ms)))
    return {"session_id": sid, "page": int(page), "ts": ts, "width": width, "height": height}


async def _views_and_fold(db: AsyncSession, f: ReportFilters) -> tuple[int, int]:
    pg = InsightPage
    views, fold_sum, fold_views = (
        await db.execute(
            select(
                func.coalesce(func.sum(pg.views), 0),
                func.coalesce(func.sum(pg.fold_sum), 0),
                func.coalesce(func.sum(pg.fold_views), 0),
            ).where(
                pg.site_id == f.site_id,
                pg.path == f.path,
                pg.device == f.device,
                pg.day >= f.first_day,
                pg.day <= f.last_day,
            )
        )
    ).one()
    return int(views), int(fold_sum) // int(fold_views) if fold_views else 0


def _page_path_is(f: ReportFilters) -> ColumnElement[bool]:
    """The page views of the path (a path cut for the rollups: those it starts)."""
    if len(f.path) < MAX_PATH:
        return PageView.path == f.path
    return path_matches(PageView.path, f.path, "prefix")


def _days(f: ReportFilters, table: Any) -> list[ColumnElement[bool]]:
    return [
        table.site_id == f.site_id,
        table.path == f.path,
        table.device == f.device,
        table.day >= f.first_day,
        table.day <= f.last_day,
    ]
