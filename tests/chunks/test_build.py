"""Chunks built in the worker process are the chunks a thread would build, and
the worker never outlives the server, even one killed with SIGKILL."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay_server.chunks.build import ChunkBuilder
from replay_server.chunks.format import decode_chunk
from replay_server.enrich.behaviour import InsightCarry
from replay_server.spool.records import RawEntry, SpoolEntry
from tests.procs import python_script, survivors_of_a_killed_parent
from tests.rrweb_events import mouse_move, now_ms, page_events


def click(ts: int) -> dict[str, object]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": 5, "x": 1, "y": 1}}


def raw_batches() -> list[RawEntry]:
    t0 = now_ms()
    events = [page_events(t0), [mouse_move(t0 + 10), click(t0 + 20)], [click(t0 + 30)]]
    return [RawEntry.of(SpoolEntry(1, "s" * 36, seq, 0, e)) for seq, e in enumerate(events)]


@pytest.mark.parametrize("workers", [0, 1])
async def test_a_cut_is_built_alike_in_a_process_and_a_thread(workers: int) -> None:
    builder = ChunkBuilder(workers)
    carry = InsightCarry()
    try:
        cut = await builder.build(raw_batches(), carry)
    finally:
        await builder.close()
    assert carry == InsightCarry()  # the caller's carry is untouched
    assert len(cut.carry.recent_clicks) == 2  # carried on for rage clicks in the next cut
    assert cut.insights.clicks == 2
    [chunk] = cut.chunks
    events = decode_chunk(chunk.data)
    assert (chunk.first_seq, chunk.last_seq, chunk.event_count) == (0, 2, len(events))
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)


PARENT = """
import asyncio, time
from replay_server.chunks.build import ChunkBuilder
from replay_server.enrich.behaviour import InsightCarry
from tests.chunks.test_build import raw_batches

async def main():
    builder = ChunkBuilder(1)
    await builder.build(raw_batches(), InsightCarry())
    print("built", flush=True)
    time.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_the_worker_exits_when_the_server_is_killed(tmp_path: Path) -> None:
    with python_script(PARENT, tmp_path) as parent:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == b"built"
        children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
        workers = [int(c) for c in children]
        assert workers, "the build ran in a worker process"
        assert survivors_of_a_killed_parent(parent, workers) == []
