"""The frame gate in front of aiohttp's own WebSocket reader: whatever way a
stream of frames is cut into reads, aiohttp gets the same messages; unfinished
messages are held (and counted) by the gate, and dropped when refused."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp._websocket.reader import WebSocketDataQueue
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_websocket import WebSocketReader, WSMsgType

from replay_server.errors import ReplayError
from replay_server.ingest.admission import Admission, Budget
from replay_server.metrics import Metrics
from replay_server.web.conn_guard import FrameGate, GuardConfig
from tests.wsraw import frame_header

PING = bytes([0x89, 0x80]) + b"\0\0\0\0"  # masked, empty


def gate_and_queue(
    limit: int = 0, admission: Admission | None = None
) -> tuple[FrameGate, WebSocketDataQueue, list[ReplayError], Admission]:
    loop = asyncio.get_running_loop()
    queue = WebSocketDataQueue(BaseProtocol(loop), 1 << 20, loop=loop)
    admission = admission or Admission(0, 0, Budget(1 << 20))
    config = GuardConfig(admission, Metrics(), "", 10.0, 60.0, limit or 1 << 30, 4 << 20)
    refusals: list[ReplayError] = []
    gate = FrameGate(WebSocketReader(queue, 4 << 20, False, False), config, refusals.append)
    if not limit:
        gate.welcomed()
    return gate, queue, refusals, admission


async def messages(queue: WebSocketDataQueue, n: int) -> list[tuple[WSMsgType, bytes]]:
    out = []
    for _ in range(n):
        msg = await asyncio.wait_for(queue.read(), 1)
        out.append((msg.type, msg.data))
    return out


def stream() -> bytes:
    big = bytes(range(256)) * 300  # 76,800 bytes: a 64-bit length header
    fragmented = (
        frame_header(3, opcode=2, fin=False)
        + b"abc"
        + PING  # a control frame between fragments
        + frame_header(2, opcode=0, fin=True)
        + b"de"
    )
    return (
        frame_header(5)
        + b"hello"
        + frame_header(len(big))
        + big
        + fragmented
        + PING
        + frame_header(200)
        + b"x" * 200  # a 16-bit length header
    )


async def test_any_cut_of_the_stream_gives_aiohttp_the_same_messages() -> None:
    data = stream()
    for cut in [1, 2, 3, 7, 13, 100, 1000, 4096, len(data)]:
        gate, queue, refusals, admission = gate_and_queue()
        for i in range(0, len(data), cut):
            gate.feed_data(data[i : i + cut])
        got = await messages(queue, 6)
        assert [t for t, _ in got] == [
            WSMsgType.BINARY,
            WSMsgType.BINARY,
            WSMsgType.PING,
            WSMsgType.BINARY,
            WSMsgType.PING,
            WSMsgType.BINARY,
        ], cut
        assert got[0][1] == b"hello" and got[3][1] == b"abcde" and got[5][1] == b"x" * 200
        assert got[1][1] == bytes(range(256)) * 300
        assert refusals == [] and admission.inflight.used == 0, cut


async def test_an_unfinished_message_is_held_counted_and_dropped_when_refused() -> None:
    gate, queue, refusals, admission = gate_and_queue(admission=Admission(0, 0, Budget(200_000)))
    gate.feed_data(frame_header(150_000) + b"\0" * 100_000)
    assert admission.inflight.used == 150_000  # announced, reserved
    assert admission.deadlines.armed(gate)
    other, _, other_refusals, _ = gate_and_queue(admission=admission)  # same node
    other.feed_data(frame_header(150_000) + b"\0" * 10)  # would go over: refused
    assert [r.code for r in other_refusals] == ["server_busy"]
    assert admission.deadlines.sweep(1e12) == 1  # the first one's deadline
    assert [r.code for r in refusals] == ["frame_timeout"]
    assert admission.inflight.used == 0 and gate._held == []
    assert gate.feed_data(b"\0" * 50_000) == (False, b"")  # nothing more is read
    with pytest.raises(TimeoutError):  # aiohttp never saw a byte of it
        await asyncio.wait_for(queue.read(), 0.05)


async def test_before_the_welcome_only_hello_sized_messages() -> None:
    gate, _queue, refusals, admission = gate_and_queue(limit=1000)
    gate.feed_data(frame_header(600, fin=False) + b"\0" * 600)
    gate.feed_data(frame_header(600, opcode=0) + b"\0" * 10)  # 1,200 in all
    assert [r.code for r in refusals] == ["frame_too_large"]
    assert admission.inflight.used == 0
