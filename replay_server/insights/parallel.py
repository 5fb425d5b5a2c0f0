"""Running a report's independent queries at once, each on a connection of
its own: a report's latency is then its slowest query, not their sum (SQLite
reads run in parallel under WAL, PostgreSQL in separate backends).

On PostgreSQL each report transaction turns JIT off and gives sorts more
memory: JIT compiling costs more than these short aggregations take, and the
default work_mem sends their group-bys to disk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.engine import SessionFactory
from replay_server.insights.filters import ReportFilters

T = TypeVar("T")
Query = Callable[[AsyncSession, ReportFilters], Awaitable[Any]]
REPORT_WORK_MEM = "32MB"


async def run_queries(sessions: SessionFactory, f: ReportFilters, *queries: Query) -> list[Any]:
    async def one(query: Query) -> Any:
        async with sessions() as db:
            if db.get_bind().dialect.name == "postgresql":
                await db.execute(text("SET LOCAL jit = off"))
                await db.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
            return await query(db, f)

    return list(await asyncio.gather(*(one(q) for q in queries)))
