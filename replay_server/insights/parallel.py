"""Running a report's independent queries at once, each on a connection of
its own: a report's latency is then its slowest query, not their sum (SQLite
reads run in parallel under WAL, PostgreSQL in separate backends).

On PostgreSQL each report transaction turns JIT off, gives sorts more
memory and plans each statement with its values: JIT compiling costs more
than these short aggregations take, the default work_mem sends their
group-bys to disk, and asyncpg's prepared statements would otherwise fall to
generic plans after five runs."""

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
# For this transaction only, in one round trip. A prepared statement's generic
# plan knows neither the day range nor a LIKE prefix: plan with the values.
REPORT_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('work_mem', :work_mem, true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)


async def run_queries(sessions: SessionFactory, f: ReportFilters, *queries: Query) -> list[Any]:
    async def one(query: Query) -> Any:
        async with sessions() as db:
            if db.get_bind().dialect.name == "postgresql":
                await db.execute(REPORT_SETTINGS, {"work_mem": REPORT_WORK_MEM})
            return await query(db, f)

    return list(await asyncio.gather(*(one(q) for q in queries)))
