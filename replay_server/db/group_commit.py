"""Group commit for database work: what callers submit while a transaction is
running is done together in the next one.

The spool makes one fsync cover many sessions' batches; this does the same for
the ingest path's rows. 2,000 recorders saying hello within a second become a
handful of transactions of a few statements each instead of 2,000 transactions
queueing for SQLite's single writer (and for the connection pool). A lone
request is not delayed: when nothing is running it starts at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import exc

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# Runs the items of one group; returns one result per item, in order. An
# exception in the list is raised to that item's caller alone. When the runner
# itself raises, the group is split (below) to find the items at fault.
GroupRunner = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]

# Failures that are nobody's item's fault: splitting the group would only
# repeat them, so every caller of the group gets the error at once.
OUTAGES: tuple[type[BaseException], ...] = (
    exc.OperationalError,  # SQLite: locked, unwritable; PostgreSQL: server gone
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # the connection pool
    OSError,  # connection refused or reset
    TimeoutError,
)


def is_outage(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OUTAGES)


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        run: GroupRunner[Item, Result],
        *,
        max_items: int = 500,
        outage: Callable[[BaseException], bool] = is_outage,
    ) -> None:
        self._run = run
        self._max_items = max_items
        self._outage = outage
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._drain())
        # A caller cancelled before its group starts is left out of it; one
        # cancelled while its group runs may still see its item done.
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                group = self._queue[: self._max_items]
                del self._queue[: self._max_items]
                await self._run_group([(i, f) for i, f in group if not f.cancelled()])
        finally:
            self._runner = None
            for _item, future in self._queue:  # only if the drain itself was cancelled
                if not future.done():
                    future.set_exception(RuntimeError("group commit stopped"))
            self._queue.clear()

    async def _run_group(self, group: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        if not group:
            return
        try:
            results = await self._isolating([item for item, _ in group])
        except BaseException:
            for _, future in group:
                future.cancel()
            raise
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _isolating(self, items: list[Item]) -> list[Result | Exception]:
        """The group's results. The fast path is one run for the whole group;
        if it fails for a reason other than an outage, one item may be at
        fault (a string the database cannot store, a row changed meanwhile):
        the group is split in halves until each failure is an item's own."""
        try:
            return list(await self._run(items))
        except Exception as e:
            if len(items) == 1 or self._outage(e):
                return [e] * len(items)
            log.warning(
                "a group of %d failed (%s: %s); splitting it to find the items at fault",
                len(items), type(e).__name__, _first_line(e),
            )  # fmt: skip
        return await self._split(items)

    async def _split(self, items: list[Item]) -> list[Result | Exception]:
        """Results of `items`, which failed together: each half runs alone.
        Halves, not one by one: a client that can make its own item fail costs
        a few extra transactions per group, not one per item."""
        middle = len(items) // 2
        results: list[Result | Exception] = []
        for part in (items[:middle], items[middle:]):
            try:
                results.extend(await self._run(part))
                continue
            except Exception as e:
                if self._outage(e):
                    # The database went away meanwhile: what is left fails with it.
                    return results + [e] * (len(items) - len(results))
                if len(part) == 1:
                    results.append(e)
                    continue
            results.extend(await self._split(part))
        return results


def _first_line(error: BaseException) -> str:
    # A database error's text goes on with the statement and its parameters:
    # visitors' URLs and titles, which have no place in a log line.
    return (str(error).splitlines() or [""])[0][:200]
