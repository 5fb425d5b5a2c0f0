"""Connection floods against a real `serve` process (docs/protocol.md, "Limits,
timeouts and caps"): idle sockets, unfinished frames and trickled headers are
bounded and closed in time, caps refuse with the documented errors, and the
file descriptor limit is raised at start."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import msgpack
import pytest

from tests.procs import ServerProcess, create_site_and_token, start_server, stop_server
from tests.rrweb_events import now_ms, page_events
from tests.wsraw import frame, frame_header, open_fds, open_ws, read_frame, refusal, rss_kib

ORIGIN = "http://client.test"


@contextlib.contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "data", **env)
    try:
        yield server
    finally:
        stop_server(server)


def port_of(server: ServerProcess) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def healthz(server: ServerProcess, timeout: float = 15.0) -> int:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
        http.get(server.url + "/healthz") as r,
    ):
        return r.status


def hello(site_key: str) -> dict[str, object]:
    return {
        "t": "hello",
        "v": 1,
        "site": site_key,
        "sid": str(uuid.uuid4()),
        "vid": str(uuid.uuid4()),
        "page": 0,
        "url": f"{ORIGIN}/",
        "referrer": "",
        "title": "t",
        "viewport": [1280, 720],
        "screen": [1920, 1080],
        "lang": "en",
        "tz": "UTC",
        "clock": int(time.time() * 1000),
    }


async def test_a_thousand_idle_sockets_from_one_address_are_closed_after_the_hello_timeout(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, REPLAY_HELLO_TIMEOUT_SECONDS="3") as server:
        baseline = open_fds(server.process.pid)
        port = port_of(server)
        sockets = []
        try:
            for _ in range(11):
                sockets += await asyncio.gather(*(open_ws(port, ORIGIN) for _ in range(100)))
            assert await healthz(server) == 200  # the node still serves
            refusals = await asyncio.gather(*(refusal(r, 15) for r, _ in sockets))
            assert set(refusals) == {("hello_timeout", 4408)}
        finally:
            for _, writer in sockets:
                writer.close()
        deadline = time.monotonic() + 10
        while open_fds(server.process.pid) > baseline + 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert open_fds(server.process.pid) <= baseline + 20


async def test_trickled_request_headers_are_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, REPLAY_HTTP_HEADER_TIMEOUT_SECONDS="1") as server:
        port = port_of(server)
        silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(50)]
        for _, writer in conns:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed: set[int] = set()
        while len(closed) < len(conns) and time.monotonic() - started < 8:
            for i, (reader, writer) in enumerate(conns):
                if i in closed:
                    continue
                with contextlib.suppress(ConnectionError):
                    writer.write(b"X-Slow: 1\r\n")
                    await writer.drain()
                if reader.at_eof() or writer.is_closing():
                    closed.add(i)
                else:
                    with contextlib.suppress(TimeoutError, ConnectionError):
                        if await asyncio.wait_for(reader.read(1024), 0.01) == b"":
                            closed.add(i)
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        for _, writer in conns:
            writer.close()
        assert len(closed) == len(conns)
        assert elapsed < 5
        # Connections that never send a byte go after the timeout too.
        assert [await asyncio.wait_for(r.read(), 5) for r, _ in silent] == [b""] * len(silent)
        for _, writer in silent:
            writer.close()
        assert await healthz(server) == 200


async def test_connection_caps_refuse_with_a_json_429(tmp_path: Path) -> None:
    with serving(
        tmp_path,
        REPLAY_MAX_CONNECTIONS_PER_IP="20",
        REPLAY_MAX_CONNECTIONS="30",
        # Held sockets send nothing: a loaded machine must not see them expire mid-test.
        REPLAY_HTTP_HEADER_TIMEOUT_SECONDS="120",
    ) as server:
        port = port_of(server)
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head, _, body = (await asyncio.wait_for(reader.read(), 15)).partition(b"\r\n\r\n")
        writer.close()
        assert head.startswith(b"HTTP/1.1 429"), (head, body, server.log()[-2000:])
        assert json.loads(body)["error"]["code"] == "too_many_connections"
        # Another address is not refused by the first one's cap...
        others = [
            await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
            for _ in range(10)
        ]
        # ...but the node's cap holds for everybody.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=("127.0.0.3", 0)
        )
        head, _, body = (await asyncio.wait_for(reader.read(), 15)).partition(b"\r\n\r\n")
        writer.close()
        assert head.startswith(b"HTTP/1.1 429"), (head, body, server.log()[-2000:])
        assert json.loads(body)["error"]["code"] == "server_busy"
        for _, w in held + others:
            w.close()
        await asyncio.sleep(0.5)
        assert await healthz(server) == 200


async def test_unfinished_frames_are_bounded_and_dropped_after_the_frame_timeout(
    tmp_path: Path,
) -> None:
    """100 sockets start a 4 MiB frame and stop one byte short: the node takes at
    most REPLAY_MAX_INFLIGHT_BYTES of them, refuses the others at their header,
    drops the ones it took at the frame timeout, and its memory comes back."""
    with serving(
        tmp_path, REPLAY_FRAME_TIMEOUT_SECONDS="3", REPLAY_MAX_INFLIGHT_BYTES=str(32 << 20)
    ) as server:
        site_key, _ = create_site_and_token(server, ORIGIN)
        port = port_of(server)
        pid = server.process.pid
        size = (4 << 20) - 1024  # the largest frame accepted
        sockets = []
        for _ in range(100):
            reader, writer = await open_ws(port, ORIGIN)
            writer.write(frame(hello(site_key)))
            sockets.append((reader, writer))
        for reader, _ in sockets:
            assert (await _next_data_frame(reader))[0] == 2  # the welcome
        before = rss_kib(pid)
        for _, writer in sockets:
            writer.write(frame_header(size))
        # A loaded machine may take a while to read 100 headers: wait for the refusals
        # rather than for a fixed time (the budget takes 8 of them, whatever the pace).
        deadline = time.monotonic() + 15
        while True:
            await asyncio.sleep(0.25)
            refused = [
                (reader, writer) for reader, writer in sockets if reader.at_eof() or reader._buffer
            ]
            if len(refused) >= len(sockets) - 8 or time.monotonic() > deadline:
                break
        await asyncio.sleep(0.5)  # a late refusal beyond the 92 would show here
        refused = [
            (reader, writer) for reader, writer in sockets if reader.at_eof() or reader._buffer
        ]
        taken = [s for s in sockets if s not in refused]
        assert len(taken) == 8  # 32 MiB / 4 MiB
        await ordinary_batch(port, site_key)  # passes with the budget full of big frames
        for _, writer in taken:
            writer.write(b"\x00" * (size - 1))
        await asyncio.gather(*(_drain(w) for _, w in taken))
        peak = rss_kib(pid)
        outcomes = await asyncio.gather(*(refusal(r, 20) for r, _ in sockets))
        for _, writer in sockets:
            writer.close()
        await asyncio.sleep(2)  # a sweep tick to trim
        after = rss_kib(pid)
        assert sorted(set(outcomes)) == [("frame_timeout", 4408), ("server_busy", 4429)]
        assert sum(o == ("frame_timeout", 4408) for o in outcomes) == len(taken)
        assert peak - before < 100 * 1024, (before, peak, after)
        assert after - before < 10 * 1024, (before, peak, after)  # returned (malloc_trim)


async def ordinary_batch(port: int, site_key: str) -> None:
    reader, writer = await open_ws(port, ORIGIN)
    writer.write(frame(hello(site_key)))
    assert (await _next_data_frame(reader))[0] == 2
    writer.write(frame({"t": "batch", "seq": 0, "page": 0, "events": page_events(now_ms())}))
    _opcode, payload = await _next_data_frame(reader)
    assert msgpack.unpackb(payload) == {"t": "ack", "seq": 0}
    writer.close()


async def _next_data_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:

    while True:
        opcode, payload = await read_frame(reader, 30)
        if opcode in (2, -1, 8):
            return opcode, payload


async def _drain(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        await asyncio.wait_for(writer.drain(), 20)


def test_serve_raises_the_soft_file_descriptor_limit(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip("the hard limit leaves nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # inherited by the server
    try:
        server = start_server(tmp_path / "data")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
        server_soft, server_hard = line.split()[3:5]
        assert server_soft == server_hard != "1024"
        assert "file descriptor limit raised from 1024" in server.log()
    finally:
        stop_server(server)
