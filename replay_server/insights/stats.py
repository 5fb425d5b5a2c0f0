"""The site overview: totals, a series per day, top pages, breakdowns and
frustration, summed from the rollups of the days asked about.

Visitors are distinct per day (the rollups hold no visitor ids): a total over
several days is the sum of each day's visitors, like a sum of daily uniques."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.models import InsightDay, InsightElement, InsightPage
from replay_server.insights.filters import DAY_MS, ReportFilters

TOP_PAGES = 100
TOP_BREAKDOWN = 20
TOP_FRUSTRATION = 10


async def site_stats(db: AsyncSession, f: ReportFilters) -> dict[str, Any]:
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
        "pages": await _pages(db, f),
        "referrers": await _breakdown(db, days, InsightDay.referrer),
        "countries": await _breakdown(db, days, InsightDay.country),
        "devices": await _breakdown(db, days, InsightDay.device),
        "browsers": await _breakdown(db, days, InsightDay.browser),
        "frustration": {
            "pages": await _frustrated_pages(db, f),
            "elements": await _frustrated_elements(db, f),
        },
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


async def _pages(db: AsyncSession, f: ReportFilters) -> list[dict[str, Any]]:
    views = func.sum(InsightPage.views)
    sums = [
        func.sum(getattr(InsightPage, name))
        for name in (
            "visitors", "sessions", "entries", "exits", "bounces", "time_ms", "clicks",
            "rage_clicks", "dead_clicks", "error_clicks",
        )
    ]  # fmt: skip
    query: Select[Any] = (
        select(InsightPage.path, views, *sums)
        .where(*_page_conditions(f))
        .group_by(InsightPage.path)
        .order_by(views.desc(), InsightPage.path)
        .limit(TOP_PAGES)
    )
    pages = []
    for (
        path,
        v,
        visitors,
        sessions,
        entries,
        exits,
        bounces,
        time_ms,
        clicks,
        rage,
        dead,
        err,
    ) in await db.execute(query):
        v = int(v)
        pages.append(
            {
                "path": path,
                "views": v,
                "visitors": int(visitors),
                "sessions": int(sessions),
                "entries": int(entries),
                "exits": int(exits),
                "bounces": int(bounces),
                "avg_time_ms": int(time_ms) // v if v else 0,
                "clicks": int(clicks),
                "rage_clicks": int(rage),
                "dead_clicks": int(dead),
                "error_clicks": int(err),
            }
        )
    return pages


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


async def _frustrated_pages(db: AsyncSession, f: ReportFilters) -> list[dict[str, Any]]:
    rage, dead, err = (
        func.sum(InsightPage.rage_clicks),
        func.sum(InsightPage.dead_clicks),
        func.sum(InsightPage.error_clicks),
    )
    total = rage + dead + err
    rows = await db.execute(
        select(InsightPage.path, rage, dead, err)
        .where(*_page_conditions(f))
        .group_by(InsightPage.path)
        .having(total > 0)
        .order_by(total.desc(), InsightPage.path)
        .limit(TOP_FRUSTRATION)
    )
    return [
        {"path": path, "rage_clicks": int(r), "dead_clicks": int(d), "error_clicks": int(e)}
        for path, r, d, e in rows
    ]


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
