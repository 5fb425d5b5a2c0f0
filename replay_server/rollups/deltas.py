"""Additions to the rollup tables, gathered for a whole group commit and then
written with one upsert per table (INSERT ... ON CONFLICT DO UPDATE SET
column = column + new), keys sorted so that two nodes lock rows in the same
order."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from replay_server.db.rollup_tables import (
    ELEMENT_CLICKS,
    INSIGHT_DAYS,
    INSIGHT_ELEMENTS,
    INSIGHT_PAGES,
    INSIGHT_POINTS,
    INSIGHT_SCROLLS,
)

# Paths are keys of the rollups' indexes, which PostgreSQL caps at 2,704 bytes
# a row: longer paths (URLs may hold 8 KiB) are counted under their first 400
# characters (up to 1,600 bytes; selectors add at most 400 ASCII).
MAX_PATH = 400


def rollup_path(path: str) -> str:
    return path[:MAX_PATH]


DayKey = tuple[
    int, int, str, str, str, str, str
]  # site, day, device, browser, os, country, referrer
PageKey = tuple[int, int, str, str]  # site, day, path, device
ElementKey = tuple[int, str, str, int, str]  # site, path, device, day, selector
PointKey = tuple[int, str, str, int, int, int]  # site, path, device, day, cell x, cell y
ScrollKey = tuple[int, str, str, int, int]  # site, path, device, day, depth
ClickKey = tuple[str, int, str]  # session, page, selector


class Deltas:
    def __init__(self) -> None:
        self.days: dict[DayKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.pages: dict[PageKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.elements: dict[ElementKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.points: dict[PointKey, int] = defaultdict(int)
        self.scrolls: dict[ScrollKey, int] = defaultdict(int)
        self.clicks: dict[ClickKey, tuple[int, str, int]] = {}  # -> site, path, clicks

    def page(self, key: PageKey, **counts: int) -> None:
        row = self.pages[key]
        for name, value in counts.items():
            row[name] += value

    def day(self, key: DayKey, **counts: int) -> None:
        row = self.days[key]
        for name, value in counts.items():
            row[name] += value

    def element(self, key: ElementKey, **counts: int) -> None:
        row = self.elements[key]
        for name, value in counts.items():
            row[name] += value

    def point(
        self, site: int, path: str, device: str, day: int, cell_x: int, cell_y: int, clicks: int
    ) -> None:
        self.points[(site, path, device, day, cell_x, cell_y)] += clicks

    def scroll(self, key: ScrollKey, change: int) -> None:
        self.scrolls[key] += change

    def click(self, sid: str, page: int, selector: str, site: int, path: str, n: int) -> None:
        key = (sid, page, selector)
        _, _, count = self.clicks.get(key, (site, path, 0))
        self.clicks[key] = (site, path, count + n)

    async def write(self, db: AsyncSession, dialect: str) -> None:
        await _upsert(db, dialect, INSIGHT_DAYS, _rows(self.days, INSIGHT_DAYS))
        await _upsert(db, dialect, INSIGHT_PAGES, _rows(self.pages, INSIGHT_PAGES))
        await _upsert(db, dialect, INSIGHT_ELEMENTS, _rows(self.elements, INSIGHT_ELEMENTS))
        points = {k: {"clicks": v} for k, v in self.points.items() if v}
        await _upsert(db, dialect, INSIGHT_POINTS, _rows(points, INSIGHT_POINTS))
        scrolls = {k: {"views": v} for k, v in self.scrolls.items() if v}
        await _upsert(db, dialect, INSIGHT_SCROLLS, _rows(scrolls, INSIGHT_SCROLLS))
        clicks = [
            {"session_id": sid, "page": page, "selector": selector, "site_id": site,
             "path": path, "clicks": count}
            for (sid, page, selector), (site, path, count) in sorted(self.clicks.items())
        ]  # fmt: skip
        await _upsert(db, dialect, ELEMENT_CLICKS, clicks, add="clicks")


def _rows(deltas: dict[Any, dict[str, int]], table: Table) -> list[dict[str, Any]]:
    """Full rows (every count column, zero where unchanged): one statement can
    then carry them all, in key order."""
    keys = [c.name for c in table.primary_key.columns]
    zeros = {c.name: 0 for c in table.columns if c.name not in keys}
    rows = []
    for key, counts in sorted(deltas.items()):
        if any(counts.values()):
            rows.append({**dict(zip(keys, key, strict=True)), **zeros, **counts})
    return rows


async def _upsert(
    db: AsyncSession, dialect: str, table: Table, rows: list[dict[str, Any]], add: str = ""
) -> None:
    """Add each row's counts (every non-key column, or only `add`) to the
    stored row of its key, created at zero."""
    if rows:
        await db.execute(_upsert_statement(dialect, table, add), rows)


@functools.cache
def _upsert_statement(dialect: str, table: Table, add: str) -> Insert:
    """Built once per table (the event loop would otherwise build it per group)."""
    keys = [c.name for c in table.primary_key.columns]
    counts = [add] if add else [c.name for c in table.columns if c.name not in keys]
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=keys,
        set_={c: table.c[c] + insert.excluded[c] for c in counts},
    )
