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
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Runs the items of one group; returns one result per item, in order. An
# exception in the list is raised to that item's caller alone; an exception
# raised by the runner itself is raised to every caller of the group.
GroupRunner = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, run: GroupRunner[Item, Result], *, max_items: int = 500) -> None:
        self._run = run
        self._max_items = max_items
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
            results = await self._run([item for item, _ in group])
        except Exception as e:
            for _, future in group:
                if not future.done():
                    future.set_exception(e)
            return
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
