"""GroupCommit: what is submitted while a group runs goes into the next group;
each caller gets its own result or error."""

from __future__ import annotations

import asyncio

import pytest

from replay_server.db.group_commit import GroupCommit


class Recorded:
    """A runner that records its groups and can be held open."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.release = asyncio.Event()

    async def run(self, items: list[int]) -> list[int | Exception]:
        self.groups.append(list(items))
        await self.release.wait()
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


async def test_requests_during_a_run_share_the_next_group() -> None:
    runner = Recorded()
    commit: GroupCommit[int, int] = GroupCommit(runner.run)
    first = asyncio.create_task(commit.submit(0))
    await asyncio.sleep(0)
    later = [asyncio.create_task(commit.submit(i)) for i in (2, 4, 6)]
    await asyncio.sleep(0)
    runner.release.set()
    assert await first == 0
    assert [await t for t in later] == [20, 40, 60]
    assert runner.groups == [[0], [2, 4, 6]]  # a lone request started at once


async def test_an_item_error_goes_to_its_caller_only() -> None:
    runner = Recorded()
    runner.release.set()
    commit: GroupCommit[int, int] = GroupCommit(runner.run)
    ok, bad = commit.submit(2), commit.submit(3)
    results = await asyncio.gather(ok, bad, return_exceptions=True)
    assert results[0] == 20
    assert isinstance(results[1], ValueError) and "odd 3" in str(results[1])


async def test_a_failing_group_fails_each_of_its_callers() -> None:
    async def broken(items: list[int]) -> list[int | Exception]:
        raise RuntimeError("database is down")

    commit: GroupCommit[int, int] = GroupCommit(broken)
    results = await asyncio.gather(*(commit.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    # and the next request is served by a new run
    with pytest.raises(RuntimeError):
        await commit.submit(9)


async def test_a_caller_cancelled_before_its_group_runs_is_left_out() -> None:
    runner = Recorded()
    commit: GroupCommit[int, int] = GroupCommit(runner.run)
    first = asyncio.create_task(commit.submit(0))
    await asyncio.sleep(0)
    gone = asyncio.create_task(commit.submit(2))
    kept = asyncio.create_task(commit.submit(4))
    await asyncio.sleep(0)
    gone.cancel()
    runner.release.set()
    assert await first == 0 and await kept == 40
    assert runner.groups == [[0], [4]]


async def test_groups_are_bounded() -> None:
    runner = Recorded()
    runner.release.set()
    commit: GroupCommit[int, int] = GroupCommit(runner.run, max_items=2)
    await asyncio.gather(*(commit.submit(i * 2) for i in range(5)))
    assert [len(g) for g in runner.groups] == [2, 2, 1]
