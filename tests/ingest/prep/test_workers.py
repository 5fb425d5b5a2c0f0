"""Frame worker processes (frame_workers): what they prepare is what the server
would prepare itself; a worker that dies fails only the frames it held (their
recorders get 1011, reconnect, resend, and nothing is lost or doubled) and is
replaced; none outlives the server, even one killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import msgpack
import pytest

from replay_server import keys
from replay_server.errors import InvalidMessage, TooLarge
from replay_server.ingest.prep.preparer import FrameContext, PreparedBatch
from replay_server.ingest.prep.worker import WorkerConfig
from replay_server.ingest.prep.workers import FIRST_RETRY_SECONDS, FrameWorkers, WorkerLost
from replay_server.privacy.masking import MaskPolicy
from tests.ingest.prep.test_preparer import SID, batch_frame, form_page, typing
from tests.ingest_server import IngestServer, Recorder
from tests.procs import alive, python_script, survivors_of_a_killed_parent
from tests.rrweb_events import mouse_move, now_ms

CONFIG = WorkerConfig(
    max_frame_bytes=4 * 1024 * 1024,
    max_batch_bytes=16 * 1024 * 1024,
    max_events_per_batch=10_000,
    max_tree_depth=245,
    max_string_length=1024 * 1024,
    max_skew_ms=300_000,
    max_items=500_000,
)


def ctx(acked: int, sid: str = SID, **policy: bool) -> FrameContext:
    return FrameContext(sid, acked, 0, 0, MaskPolicy(**policy))


def comparable(reply: PreparedBatch | None) -> object:
    if reply is None or reply.problem is None:
        return reply
    return (reply.seq, reply.page, reply.problem.code, reply.problem.message)


async def test_a_worker_prepares_frames_as_the_server_would() -> None:
    t0 = now_ms()
    frames = [
        (batch_frame(0, form_page(t0)), ctx(-1)),  # masks the typed value
        (batch_frame(1, [typing(t0 + 5)]), ctx(0, mask_inputs=False)),  # remembers the field
        (batch_frame(1, [typing(t0 + 5)]), ctx(1)),  # a resend: not looked at
        (batch_frame(2, [{"type": 99, "timestamp": t0}]), ctx(1)),  # refused events
        (msgpack.packb({"t": "bye"}), ctx(1)),
    ]
    here = CONFIG.preparer()
    workers = FrameWorkers(1, CONFIG)
    try:
        for frame, context in frames:
            there = await workers.prepare(frame, context)
            assert comparable(there) == comparable(here.prepare(frame, context))
        with pytest.raises(InvalidMessage) as bad:
            await workers.prepare(b"\xc1", ctx(2))
        assert bad.value.code == "bad_msgpack"
        with pytest.raises(TooLarge) as big:
            await workers.prepare(batch_frame(3, [mouse_move(t0)] * 10_001), ctx(2))
        assert big.value.code == "batch_too_large"
    finally:
        await workers.close()


async def test_frames_of_many_sessions_at_once_each_get_their_own_reply() -> None:
    workers = FrameWorkers(2, CONFIG)
    t0 = now_ms()
    try:
        sids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(300)]
        replies = await asyncio.gather(
            *(
                workers.prepare(batch_frame(n, [mouse_move(t0 + n)]), ctx(n - 1, sid))
                for n, sid in enumerate(sids)
            )
        )
        assert [r.seq if r else None for r in replies] == list(range(300))
        assert all(r is not None and r.summary is not None for r in replies)
        assert [r.summary.first_ts for r in replies if r and r.summary] == [
            t0 + n for n in range(300)
        ]
        assert len(set(workers.pids())) == 2
    finally:
        await workers.close()


async def test_a_killed_worker_fails_what_it_held_and_is_replaced() -> None:
    workers = FrameWorkers(1, CONFIG)
    frame = batch_frame(0, [mouse_move(now_ms())])
    try:
        await workers.prepare(frame, ctx(-1))
        [pid] = workers.pids()
        os.kill(pid, signal.SIGSTOP)  # so the next frame is surely still held when it dies
        held = asyncio.create_task(workers.prepare(frame, ctx(-1)))
        await asyncio.sleep(0.2)
        assert not held.done()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerLost):
            await held
        again = await workers.prepare(frame, ctx(-1))
        assert again is not None and again.summary is not None
        [new_pid] = workers.pids()
        assert new_pid != pid
    finally:
        await workers.close()
    assert not alive(new_pid)


async def test_a_recorder_whose_frame_was_lost_with_a_worker_resends_it_once(
    ingest: IngestServer, recorder: Recorder
) -> None:
    t0 = now_ms()
    await recorder.connect()
    await recorder.batch(0, form_page(t0))
    assert await recorder.recv() == {"t": "ack", "seq": 0}
    frames = ingest.app[keys.INGESTOR].frames
    assert frames is not None
    [pid] = frames.pids()
    os.kill(pid, signal.SIGSTOP)
    await recorder.batch(1, [typing(t0 + 10)])
    await asyncio.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    error = await recorder.recv()
    assert (error["t"], error["code"]) == ("error", "server_error")
    assert recorder.ws is not None
    await recorder.ws.wait_closed()
    assert recorder.ws.close_code == 1011

    welcome = await recorder.connect()
    assert welcome["acked"] == 0
    await recorder.batch(1, [typing(t0 + 10)])
    assert await recorder.recv() == {"t": "ack", "seq": 1}
    await recorder.close()
    events = await ingest.events(recorder.sid)
    assert [e["timestamp"] for e in events] == [t0, t0 + 1, t0 + 10]
    # The new worker never saw the page: the typed value is masked all the same.
    assert events[-1]["data"]["text"] == "*" * len(events[-1]["data"]["text"])


PARENT = """
import asyncio, time
from replay_server.ingest.prep.workers import FrameWorkers
from tests.ingest.prep.test_workers import CONFIG, ctx
from tests.ingest.prep.test_preparer import batch_frame
from tests.rrweb_events import mouse_move, now_ms

async def main():
    workers = FrameWorkers(2, CONFIG)
    for n in range(20):  # sessions spread over both workers
        await workers.prepare(batch_frame(0, [mouse_move(now_ms())]), ctx(-1, sid=f"{n:036d}"))
    print(*workers.pids(), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


def test_workers_exit_when_the_server_is_killed(tmp_path: Path) -> None:
    with python_script(PARENT, tmp_path) as parent:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(w) for w in workers)
        assert survivors_of_a_killed_parent(parent, workers) == []


class _Unreadable(WorkerConfig):
    def to_json(self) -> str:
        return "{not json"


async def test_a_worker_that_cannot_start_is_retried_after_a_delay_not_per_frame() -> None:
    workers = FrameWorkers(1, _Unreadable(**CONFIG.__dict__))
    frame = batch_frame(0, [mouse_move(now_ms())])
    try:
        with pytest.raises(WorkerLost):
            await workers.prepare(frame, ctx(-1))
        for _ in range(5):
            with pytest.raises(WorkerLost, match="restarting"):
                await workers.prepare(frame, ctx(-1))
        assert workers.starts == 1
        await asyncio.sleep(FIRST_RETRY_SECONDS + 0.1)
        with pytest.raises(WorkerLost):
            await workers.prepare(frame, ctx(-1))
        assert workers.starts == 2
    finally:
        await workers.close()
