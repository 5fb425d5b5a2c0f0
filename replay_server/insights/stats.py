"""The site overview: totals, a series per day, top pages, breakdowns and
frustration, summed from the rollups of the days asked about.

Visitors are distinct per day (the rollups hold no visitor ids): a total over
several days is the sum of each day's visitors, like a sum of daily uniques."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.engine import SessionFactory
from replay_server.db.rollup_tables import InsightDay, InsightElement, InsightPage
from replay_server.insights.filters import DAY_MS, ReportFilters
from replay_server.insights.parallel import run_queries

TOP_PAGES = 100
TOP_BREAKDOWN = 20
TOP_FRUSTRATION = 10


async def site_stats(sessions: SessionFactory, f: ReportFilters) -> dict[str, Any]:
    """The overview; its three parts are read at once (parallel.py)."""
    visits, pages, elements = await run_queries(sessions, f, _visits, _pages, _frustrated_elements)
    top_pages, frustrated_pages = pages
    return {
        **visits,
        "pages": top_pages,
        "frustration": {"pages": frustrated_pages, "elements": elements},
    }


async def _visits(db: AsyncSession, f: ReportFilters) -> dict[str, Any]:
    """Totals, series and breakdowns: from the small rollup of sessions."""
    days = _day_conditions(f)
    totals = (
        await db.execute(
            select(
                func.coalesce(func.sum(InsightDay.sessions), 0),
                func.coalesce(func.sum(InsightDay.visitors), 0),
                func.coalesce(func.sum(InsightDay.page_views), 0),
                func.coalesce(func.sum(InsightDay.bounces), 0),
                func.coalesce(func.sum(InsightDay.duration_ms), 0),
            ).where(*days)
        )
    ).one()
    sessions, visitors, page_views, bounces, duration = (int(v) for v in totals)
    return {
        "totals": {
            "sessions": sessions,
            "visitors": visitors,
            "page_views": page_views,
            "bounce_rate": round(bounces / sessions, 4) if sessions else 0.0,
            "avg_session_ms": duration // sessions if sessions else 0,
        },
        "series": await _series(db, f, days),
        "referrers": await _breakdown(db, days, InsightDay.referrer),
        "countries": await _breakdown(db, days, InsightDay.country),
        "devices": await _breakdown(db, days, InsightDay.device),
        "browsers": await _breakdown(db, days, InsightDay.browser),
    }


def _day_conditions(f: ReportFilters) -> list[ColumnElement[bool]]:
    conditions = [
        InsightDay.site_id == f.site_id,
        InsightDay.day >= f.first_day,
        InsightDay.day <= f.last_day,
    ]
    for column, value in (
        (InsightDay.device, f.device),
        (InsightDay.browser, f.browser),
        (InsightDay.os, f.os),
        (InsightDay.country, f.country),
    ):
        if value:
            conditions.append(column == value)
    return conditions


def _page_conditions(f: ReportFilters) -> list[ColumnElement[bool]]:
    conditions = [
        InsightPage.site_id == f.site_id,
        InsightPage.day >= f.first_day,
        InsightPage.day <= f.last_day,
    ]
    if f.device:
        conditions.append(InsightPage.device == f.device)
    if f.url:
        conditions.append(f.path_matches(InsightPage.path))
    return conditions


async def _series(
    db: AsyncSession, f: ReportFilters, days: list[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(
            InsightDay.day,
            func.sum(InsightDay.sessions),
            func.sum(InsightDay.visitors),
            func.sum(InsightDay.page_views),
        )
        .where(*days)
        .group_by(InsightDay.day)
    )
    by_day = {int(day): (int(s), int(v), int(p)) for day, s, v, p in rows}
    series = []
    for day in range(f.first_day, f.last_day + 1):
        s, v, p = by_day.get(day, (0, 0, 0))
        series.append({"day": day_label(day), "sessions": s, "visitors": v, "page_views": p})
    return series


PAGE_SUMS = (
    "views", "visitors", "sessions", "entries", "exits", "bounces", "time_ms", "clicks",
    "rage_clicks", "dead_clicks", "error_clicks",
)  # fmt: skip


async def _pages(
    db: AsyncSession, f: ReportFilters
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The top pages by views and the most frustrating ones, from one scan:
    each path's sums, ranked both ways, keeping the rows either list needs."""
    sums = {name: func.sum(getattr(InsightPage, name)) for name in PAGE_SUMS}
    frustration = sums["rage_clicks"] + sums["dead_clicks"] + sums["error_clicks"]
    ranked = (
        select(
            InsightPage.path,
            *(total.label(name) for name, total in sums.items()),
            func.row_number()
            .over(order_by=(sums["views"].desc(), InsightPage.path))
            .label("by_views"),
            func.row_number()
            .over(order_by=(frustration.desc(), InsightPage.path))
            .label("by_frustration"),
        )
        .where(*_page_conditions(f))
        .group_by(InsightPage.path)
        .subquery()
    )
    frustrated = ranked.c.rage_clicks + ranked.c.dead_clicks + ranked.c.error_clicks
    rows = (
        await db.execute(
            select(ranked).where(
                (ranked.c.by_views <= TOP_PAGES)
                | ((ranked.c.by_frustration <= TOP_FRUSTRATION) & (frustrated > 0))
            )
        )
    ).all()
    top = sorted((r for r in rows if r.by_views <= TOP_PAGES), key=lambda r: int(r.by_views))
    worst = sorted(
        (r for r in rows if r.by_frustration <= TOP_FRUSTRATION and _frustration(r) > 0),
        key=lambda r: int(r.by_frustration),
    )
    return [_page_row(r) for r in top], [
        {
            "path": r.path,
            **{k: int(getattr(r, k)) for k in ("rage_clicks", "dead_clicks", "error_clicks")},
        }
        for r in worst
    ]


def _frustration(row: Any) -> int:
    return int(row.rage_clicks) + int(row.dead_clicks) + int(row.error_clicks)


def _page_row(row: Any) -> dict[str, Any]:
    views = int(row.views)
    return {
        "path": row.path,
        "views": views,
        "visitors": int(row.visitors),
        "sessions": int(row.sessions),
        "entries": int(row.entries),
        "exits": int(row.exits),
        "bounces": int(row.bounces),
        "avg_time_ms": int(row.time_ms) // views if views else 0,
        "clicks": int(row.clicks),
        "rage_clicks": int(row.rage_clicks),
        "dead_clicks": int(row.dead_clicks),
        "error_clicks": int(row.error_clicks),
    }


async def _breakdown(
    db: AsyncSession, days: list[ColumnElement[bool]], column: Any
) -> list[dict[str, Any]]:
    sessions = func.sum(InsightDay.sessions)
    rows = await db.execute(
        select(column, sessions)
        .where(*days)
        .group_by(column)
        .order_by(sessions.desc(), column)
        .limit(TOP_BREAKDOWN)
    )
    return [{"name": name, "sessions": int(count)} for name, count in rows if count]


async def _frustrated_elements(db: AsyncSession, f: ReportFilters) -> list[dict[str, Any]]:
    e = InsightElement
    conditions = [
        e.site_id == f.site_id,
        e.day >= f.first_day,
        e.day <= f.last_day,
        e.rage_clicks + e.dead_clicks + e.error_clicks > 0,
    ]
    if f.device:
        conditions.append(e.device == f.device)
    if f.url:
        conditions.append(f.path_matches(e.path))
    rage, dead, err = func.sum(e.rage_clicks), func.sum(e.dead_clicks), func.sum(e.error_clicks)
    total = rage + dead + err
    rows = await db.execute(
        select(e.path, e.selector, rage, dead, err)
        .where(*conditions)
        .group_by(e.path, e.selector)
        .order_by(total.desc(), e.path, e.selector)
        .limit(TOP_FRUSTRATION)
    )
    return [
        {
            "path": path,
            "selector": selector,
            "rage_clicks": int(r),
            "dead_clicks": int(d),
            "error_clicks": int(x),
        }
        for path, selector, r, d, x in rows
    ]


def day_label(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_MS / 1000, UTC).date().isoformat()
