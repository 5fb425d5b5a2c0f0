"""Well-behaved recorders for benchmarks/hostile.py, in their own process:

    python benchmarks/hostile_recorders.py --url ws://127.0.0.1:PORT/ingest/ws \
        --site-key pk_... --recorders 200 --out results.json

Each visitor has its own loopback address (127.1.x.y: the server sees 200
visitors, not one client), sends one batch a second of real recorded events
(ingest_load's fixture batches) and waits for its ack; every `--page-seconds`
(jittered) it navigates: `bye`, a new connection, a hello for the next page,
that page's opening snapshot. After an error, a close or a timeout it
reconnects a second later, as recorder.js does. Prints `ready N` once N
visitors have had their first welcome; on SIGTERM (or after `--max-seconds`)
writes every ack, hello and failure with its monotonic time (the same clock
as the orchestrator's) to `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ingest_load import (
    ORIGIN,
    fixture_batches,
    hello_message,
    raise_fd_limit,
    stamped,
)

TIMEOUT = 10.0  # connect, welcome, ack: longer than this counts as a failure
RETRY_SECONDS = 1.0


@dataclass
class Log:
    acks: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency s)
    hellos: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency s)
    failures: list[tuple[float, str]] = field(default_factory=list)  # (at, what)

    def fail(self, at: float, what: str) -> None:
        self.failures.append((at, what))


def recorder_ip(n: int) -> str:
    return f"127.1.{n // 250}.{n % 250 + 1}"


@dataclass
class Visitor:
    n: int
    url: str
    site_key: str
    page_seconds: float
    log: Log
    stop: asyncio.Event
    welcomed: asyncio.Event
    sid: str = field(default_factory=lambda: str(uuid.uuid4()))
    vid: str = field(default_factory=lambda: str(uuid.uuid4()))
    page: int = 0
    seq: int = 0
    stage: str = "connect"  # what a connection error interrupted

    async def run(self, opening: list[dict[str, Any]], batches: list[list[dict[str, Any]]]) -> None:
        connector = aiohttp.TCPConnector(local_addr=(recorder_ip(self.n), 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    navigated = await self.page_view(http, opening, batches)
                except (TimeoutError, aiohttp.ClientError, OSError) as e:
                    self.log.fail(started, f"{self.stage}: {type(e).__name__}")
                    navigated = False
                if navigated:
                    self.page += 1
                else:
                    await asyncio.sleep(RETRY_SECONDS * (0.5 + random.random()))

    async def page_view(
        self,
        http: aiohttp.ClientSession,
        opening: list[dict[str, Any]],
        batches: list[list[dict[str, Any]]],
    ) -> bool:
        """One connection: hello, then batches until the page's time is up
        (True: it navigates on) or something fails (False: it reconnects)."""
        self.stage = "connect"
        async with asyncio.timeout(TIMEOUT):
            ws = await http.ws_connect(
                self.url, headers={"Origin": ORIGIN}, max_msg_size=0, autoping=True
            )
        async with ws:
            self.stage = "hello"
            sent = time.monotonic()
            await ws.send_bytes(
                msgpack.packb(hello_message(self.site_key, self.sid, self.vid, self.page))
            )
            reply = await self.receive(ws, sent, "hello")
            if reply is None:
                return False
            self.log.hellos.append((sent, time.monotonic() - sent))
            self.welcomed.set()
            self.stage = "batch"
            self.seq = max(self.seq, reply["acked"] + 1)
            leave_at = time.monotonic() + self.page_seconds * (0.75 + 0.5 * random.random())
            events = opening
            next_send = time.monotonic()
            while time.monotonic() < leave_at:
                if self.stop.is_set():
                    return False
                batch = {"t": "batch", "seq": self.seq, "page": self.page}
                batch["events"] = stamped(events, int(time.time() * 1000))
                sent = time.monotonic()
                await ws.send_bytes(msgpack.packb(batch))
                if await self.receive(ws, sent, "batch") is None:
                    return False
                self.log.acks.append((sent, time.monotonic() - sent))
                self.seq += 1
                events = batches[self.seq % len(batches)]
                next_send = max(next_send + 1.0, time.monotonic())
                await asyncio.sleep(next_send - time.monotonic())
            await ws.send_bytes(msgpack.packb({"t": "bye"}))
            return True

    async def receive(
        self, ws: aiohttp.ClientWebSocketResponse, sent: float, what: str
    ) -> dict[str, Any] | None:
        """The server's reply (a welcome or an ack), or None after logging why not."""
        try:
            msg = await ws.receive(timeout=TIMEOUT)
        except TimeoutError:
            self.log.fail(sent, f"{what}: no answer in {TIMEOUT:.0f} s")
            return None
        if msg.type != aiohttp.WSMsgType.BINARY:
            self.log.fail(sent, f"{what}: {msg.type.name.lower()} {ws.close_code}")
            return None
        reply: dict[str, Any] = msgpack.unpackb(msg.data)
        if reply.get("t") == "error":
            self.log.fail(sent, f"{what}: error {reply.get('code')}")
            return None
        return reply


async def run(args: argparse.Namespace) -> Log:
    opening, batches = fixture_batches()
    log, stop = Log(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.call_later(args.max_seconds, stop.set)
    visitors = [
        Visitor(n, args.url, args.site_key, args.page_seconds, log, stop, asyncio.Event())
        for n in range(args.recorders)
    ]
    tasks = []
    for visitor in visitors:
        tasks.append(asyncio.create_task(visitor.run(opening, batches)))
        await asyncio.sleep(args.ramp / args.recorders)

    async def all_welcomed() -> None:
        await asyncio.gather(*(v.welcomed.wait() for v in visitors))

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_welcomed(), timeout=60)
    print(f"ready {sum(v.welcomed.is_set() for v in visitors)}", flush=True)
    await stop.wait()
    await asyncio.wait(tasks, timeout=TIMEOUT + 5)
    for task in tasks:
        task.cancel()
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--site-key", required=True)
    parser.add_argument("--recorders", type=int, default=200)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which they start")
    parser.add_argument("--page-seconds", type=float, default=10.0)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    raise_fd_limit()
    log = asyncio.run(run(args))
    args.out.write_text(json.dumps(asdict(log)))


if __name__ == "__main__":
    main()
