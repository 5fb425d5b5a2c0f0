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


class Picky:
    """A runner like a database transaction: the whole group fails when any of
    its items cannot be stored (negative here)."""

    def __init__(self) -> None:
        self.runs: list[list[int]] = []

    async def run(self, items: list[int]) -> list[int | Exception]:
        self.runs.append(list(items))
        await asyncio.sleep(0)  # what is submitted meanwhile waits for the next group
        bad = [i for i in items if i < 0]
        if bad:
            raise UnicodeEncodeError("utf-8", str(bad[0]), 0, 1, "surrogates not allowed")
        return [i * 10 for i in items]


async def gather_group(commit: GroupCommit[int, int], items: list[int]) -> list[object]:
    """`items` submitted as one group (while a first, lone one runs)."""
    first = asyncio.create_task(commit.submit(10_000))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the lone group is running
    rest = [asyncio.create_task(commit.submit(i)) for i in items]
    await first
    return list(await asyncio.gather(*rest, return_exceptions=True))


async def test_a_failing_group_is_split_so_only_the_items_at_fault_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = Picky()
    commit: GroupCommit[int, int] = GroupCommit(runner.run)
    items = [i if i % 37 else -i - 1 for i in range(200)]  # bad: 0, 37, 74, ...
    results = await gather_group(commit, items)
    for item, result in zip(items, results, strict=True):
        if item < 0:
            assert isinstance(result, UnicodeEncodeError)
        else:
            assert result == item * 10
    assert len(runner.runs) - 2 < len(items) / 2  # halves: far fewer runs than one per item
    splits = [r for r in caplog.records if "splitting" in r.getMessage()]
    assert len(splits) == 1 and "UnicodeEncodeError" in splits[0].getMessage()


async def test_an_outage_fails_the_whole_group_without_retrying() -> None:
    runs: list[list[int]] = []

    async def down(items: list[int]) -> list[int | Exception]:
        runs.append(items)
        await asyncio.sleep(0)
        if len(runs) == 1:
            return [0]  # the lone first group
        raise ConnectionRefusedError("database is down")

    commit: GroupCommit[int, int] = GroupCommit(down)
    results = await gather_group(commit, list(range(50)))
    assert all(isinstance(r, ConnectionRefusedError) for r in results)
    assert len(runs) == 2  # the group ran once


async def test_an_outage_while_splitting_fails_what_is_left() -> None:
    runs: list[list[int]] = []

    async def flaky(items: list[int]) -> list[int | Exception]:
        runs.append(items)
        await asyncio.sleep(0)
        if len(runs) == 1:
            return [0]
        if len(runs) == 2:
            raise ValueError("one item is bad")
        if len(runs) == 3:
            return [i for i in items]  # the first half commits
        raise ConnectionResetError("database went away")

    commit: GroupCommit[int, int] = GroupCommit(flaky)
    results = await gather_group(commit, list(range(8)))
    assert results[:4] == [0, 1, 2, 3]
    assert all(isinstance(r, ConnectionResetError) for r in results[4:])
    assert len(runs) == 4
