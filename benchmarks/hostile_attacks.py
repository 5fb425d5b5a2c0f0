"""Attack clients for benchmarks/hostile.py, one per run of this script:

    python benchmarks/hostile_attacks.py ATTACK --url http://127.0.0.1:PORT \
        --site-key pk_... --seconds 25 [--scale 1.0]

Every attack is bounded in connections and time, talks to loopback only and
stops by itself after `--seconds`; it then prints one JSON line: what the
server answered (outcome -> count) and a few figures of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.hostile_wire import (
    Target,
    connect,
    deep_tree_frame,
    describe_reply,
    handshake,
    inflation_frame,
    json_bomb,
    masked_frame,
    upgrade_request,
)
from benchmarks.ingest_load import ORIGIN, hello_message, raise_fd_limit
from tests.wsraw import read_frame

# Loopback addresses: 127.0.0.1 is the orchestrator's health probe, 127.1.x.y
# the well-behaved recorders, 127.2.0.1 the single-address attacker and
# 127.3.0.x the hello storm's many addresses (site keys are public: anyone
# with a few addresses can send bad hellos at a rate no per-IP limit sees).
ATTACKER_IP = "127.2.0.1"
STORM_IPS = [f"127.3.0.{i}" for i in range(1, 51)]
REPLY_TIMEOUT = 30.0


class Attack:
    """Shared state of one attack run: its deadline and what the server answered."""

    def __init__(self, target: Target, seconds: float, scale: float) -> None:
        self.target = target
        self.deadline = time.monotonic() + seconds
        self.scale = scale
        self.outcomes: Counter[str] = Counter()
        self.figures: dict[str, Any] = {}
        self.reply_seconds: list[float] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    def scaled(self, n: int) -> int:
        return max(1, int(n * self.scale))

    def http_base(self) -> str:
        return f"http://{self.target.host}:{self.target.port}"

    def failed(self, what: str, e: BaseException) -> None:
        self.count(failure(what, e))


def failure(what: str, e: BaseException) -> str:
    errno = getattr(e, "errno", None)
    return f"{what}: {type(e).__name__}" + (f" errno {errno}" if errno else "")


def bound_session(source_ip: str, timeout: float | None = None) -> aiohttp.ClientSession:
    """An HTTP client whose connections come from `source_ip`."""
    connector = aiohttp.TCPConnector(local_addr=(source_ip, 0), limit=0)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def hello_then(attack: Attack, source_ip: str, frame: Callable[[], bytes]) -> str:
    """Connect, say a valid hello, send `frame`, close; what the server
    answered to the frame (or to the hello, if it refused that)."""
    async with bound_session(source_ip) as http:
        try:
            async with http.ws_connect(
                attack.http_base() + "/ingest/ws", headers={"Origin": ORIGIN}, max_msg_size=0
            ) as ws:
                sid, vid = str(uuid.uuid4()), str(uuid.uuid4())
                await ws.send_bytes(msgpack.packb(hello_message(attack.target.site_key, sid, vid)))
                welcome = await ws.receive(timeout=REPLY_TIMEOUT)
                if welcome.type != aiohttp.WSMsgType.BINARY:
                    return f"hello: {welcome.type.name.lower()} {ws.close_code}"
                sent = time.monotonic()
                await ws.send_bytes(frame())
                reply = await ws.receive(timeout=REPLY_TIMEOUT)
                attack.reply_seconds.append(time.monotonic() - sent)
                if reply.type == aiohttp.WSMsgType.BINARY:
                    return describe_reply(2, reply.data)
                return f"{reply.type.name.lower()} {ws.close_code}"
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            return failure("connection", e)


async def repeat(attack: Attack, workers: int, once: Callable[[int], Awaitable[None]]) -> None:
    """`workers` loops, each running `once(n)` back to back until the deadline."""
    counter = itertools.count()

    async def loop() -> None:
        while attack.left() > 0:
            await once(next(counter))

    tasks = [asyncio.create_task(loop()) for _ in range(workers)]
    await asyncio.wait(tasks, timeout=max(0.0, attack.left()) + REPLY_TIMEOUT)
    for task in tasks:
        task.cancel()


async def inflation(attack: Attack) -> None:
    """15 KiB batches inflating to 15 million empty maps, from 3 connections
    at a time; the first `accepted` of them as a custom event's payload
    (within every limit, so also chunked), the rest as the events list."""
    maps, accepted = 15_000_000, 3
    attack.figures["frame_bytes"] = len(inflation_frame(0, maps, False))

    async def once(n: int) -> None:
        variant = "custom event payload" if n < accepted else "events list"
        frame = inflation_frame(0, maps, n < accepted)
        attack.count(f"{variant}: {await hello_then(attack, ATTACKER_IP, lambda: frame)}")

    await repeat(attack, 3, once)


async def json_bomb_attack(attack: Attack) -> None:
    """16 KiB gzip bodies to POST /ingest/batch (text/plain, as sendBeacon
    sends), inflating to 16 MiB of JSON: millions of objects, or arrays nested
    millions deep; from 2 clients at a time."""
    bodies = {kind: json_bomb(kind, 16 * 1024 * 1024 - 64) for kind in ("wide", "deep")}
    attack.figures["body_bytes"] = {k: len(v) for k, v in bodies.items()}
    async with bound_session(ATTACKER_IP) as http:

        async def once(n: int) -> None:
            kind = "wide" if n % 2 == 0 else "deep"
            sent = time.monotonic()
            try:
                async with http.post(
                    attack.http_base() + "/ingest/batch",
                    data=bodies[kind],
                    headers={"Content-Type": "text/plain", "Origin": ORIGIN},
                    timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT),
                ) as response:
                    body = await response.read()
                attack.reply_seconds.append(time.monotonic() - sent)
                attack.count(f"{kind}: {response.status} {error_code(body)}")
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                attack.failed(kind, e)

        await repeat(attack, 2, once)


def error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


async def deep_tree(attack: Attack) -> None:
    """Opening batches (Meta + FullSnapshot) whose DOM nests 300 to 2,000
    elements, one session each, from 2 connections at a time."""
    depths = [300, 600, 1000, 1500, 2000]
    href = ORIGIN + "/deep"

    async def once(n: int) -> None:
        depth = depths[n % len(depths)]
        frame = deep_tree_frame(0, depth, href)
        attack.count(f"depth {depth}: {await hello_then(attack, ATTACKER_IP, lambda: frame)}")
        await asyncio.sleep(0.5)

    await repeat(attack, 2, once)


SocketUser = Callable[[int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def on_socket(attack: Attack, source_ip: str, n: int, use: SocketUser) -> None:
    """A raw connection from `source_ip`, used by `use`, then closed; failures counted."""
    try:
        reader, writer = await connect(attack.target, source_ip)
    except (TimeoutError, OSError) as e:
        attack.failed("connect", e)
        return
    try:
        await use(n, reader, writer)
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as e:
        attack.failed("socket", e)
    finally:
        writer.close()


async def upgrade(
    attack: Attack,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    user_agent: bytes = b"Mozilla/5.0 (X11) bench",
) -> int:
    """A hand-made WebSocket handshake; its HTTP status, counted."""
    request = upgrade_request(attack.target, user_agent)
    status = await asyncio.wait_for(handshake(reader, writer, request), 10)
    attack.count(f"upgrade {status}")
    return status


async def hold_sockets(attack: Attack, count: int, per_second: float, use: SocketUser) -> None:
    """Open `count` sockets from the attacker's address at `per_second`, each
    run by `use` (which holds it until the deadline); wait for all of them."""
    tasks = []
    for n in range(count):
        if attack.left() <= 0:
            break
        tasks.append(asyncio.create_task(on_socket(attack, ATTACKER_IP, n, use)))
        await asyncio.sleep(1 / per_second)
    attack.figures["sockets_started"] = len(tasks)
    if tasks:
        await asyncio.wait(tasks, timeout=max(0.0, attack.left()) + 15)
    for task in tasks:
        task.cancel()


async def held(
    attack: Attack,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    opened: float,
    tick: Callable[[], bytes] | None = None,
) -> None:
    """Hold an open socket until the deadline (sending `tick()` every second
    if given); count whether the server closed it first, and after how long."""

    async def server_closed() -> None:
        while await reader.read(65536):
            pass

    closing = asyncio.create_task(server_closed())
    try:
        while attack.left() > 0 and not closing.done():
            await asyncio.wait([closing], timeout=min(1.0, max(0.01, attack.left())))
            if tick is not None and not closing.done() and not writer.is_closing():
                writer.write(tick())
        if closing.done():
            attack.count("closed by the server")
            attack.reply_seconds.append(time.monotonic() - opened)
        else:
            attack.count("held to the end")
    finally:
        closing.cancel()


async def idle_flood(attack: Attack) -> None:
    """~1,000 connections from one address that say nothing: half upgraded
    to WebSocket (no hello), half plain TCP."""

    async def idle(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened = time.monotonic()
        if n % 2 == 0:
            await upgrade(attack, reader, writer)
        await held(attack, reader, writer, opened)

    await hold_sockets(attack, attack.scaled(1000), 200, idle)


async def partial_frames(attack: Attack) -> None:
    """~100 WebSockets (hand-made handshake) that announce a frame just under
    4 MiB and send 90% of its payload, then hold: every other one after a
    valid hello (when frames up to REPLAY_MAX_FRAME_BYTES are allowed)."""
    length = 4 * 1024 * 1024 - 1024
    sent_part = int(length * 0.9)
    start_of_frame = masked_frame(b"\x00" * sent_part, announced=length)
    attack.figures["bytes_sent_per_socket"] = sent_part

    async def partial(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened = time.monotonic()
        await upgrade(attack, reader, writer)
        if n % 2:
            hello = hello_message(attack.target.site_key, str(uuid.uuid4()), str(uuid.uuid4()))
            writer.write(masked_frame(msgpack.packb(hello)))
            opcode, data = await read_frame(reader, 10)
            attack.count(f"after hello: {describe_reply(opcode, data)}")
        writer.write(start_of_frame)
        await asyncio.wait_for(writer.drain(), max(1.0, attack.left()))
        await held(attack, reader, writer, opened)

    await hold_sockets(attack, attack.scaled(100), 50, partial)


async def hello_storm(attack: Attack) -> None:
    """Hellos with bad strings at ~100/s from 50 addresses: WebSocket hellos
    whose User-Agent holds a raw 0xFF byte, and HTTP fallback hellos whose
    title and url hold a lone surrogate (a \\ud800 escape in JSON)."""
    rate = 100 * attack.scale
    in_flight = asyncio.Semaphore(50)
    ips = itertools.cycle(STORM_IPS)
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            ip: await stack.enter_async_context(bound_session(ip, timeout=10)) for ip in STORM_IPS
        }

        async def bad_user_agent(
            _n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            if await upgrade(attack, reader, writer, b"Mozilla/5.0 \xff\xfe bench") != 101:
                return
            key = attack.target.site_key
            hello = hello_message(key, str(uuid.uuid4()), str(uuid.uuid4()))
            sent = time.monotonic()
            writer.write(masked_frame(msgpack.packb(hello)))
            opcode, data = await read_frame(reader, 10)
            attack.reply_seconds.append(time.monotonic() - sent)
            attack.count(f"ws 0xFF user agent: {describe_reply(opcode, data)}")

        async def lone_surrogate(ip: str) -> None:
            hello = hello_message(attack.target.site_key, str(uuid.uuid4()), str(uuid.uuid4()))
            hello.pop("t")
            hello.update(title="Cart \ud800", url=ORIGIN + "/cart/\ud800")
            body = json.dumps({"hello": hello, "batches": []})  # ascii: "\ud800" escapes
            sent = time.monotonic()
            try:
                async with clients[ip].post(
                    attack.http_base() + "/ingest/batch",
                    data=body.encode(),
                    headers={"Content-Type": "text/plain", "Origin": ORIGIN},
                ) as response:
                    reply = await response.read()
                attack.reply_seconds.append(time.monotonic() - sent)
                attack.count(f"http lone surrogate: {response.status} {error_code(reply)}")
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                attack.failed("http lone surrogate", e)

        async def one(n: int) -> None:
            async with in_flight:
                if n % 2 == 0:
                    await on_socket(attack, next(ips), n, bad_user_agent)
                else:
                    await lone_surrogate(next(ips))

        tasks = []
        for n in itertools.count():
            if attack.left() <= 0:
                break
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(1 / rate)
        await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()


async def slow_headers(attack: Attack) -> None:
    """~500 connections from one address sending an HTTP request's headers a
    byte a second, never finishing them."""
    trickle = itertools.cycle(b"abcdefghij")

    async def slow(_n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
        await held(attack, reader, writer, time.monotonic(), lambda: bytes([next(trickle)]))

    await hold_sockets(attack, attack.scaled(500), 100, slow)


ATTACKS: dict[str, Callable[[Attack], Awaitable[None]]] = {
    "inflation": inflation,
    "json-bomb": json_bomb_attack,
    "deep-tree": deep_tree,
    "idle-flood": idle_flood,
    "partial-frames": partial_frames,
    "hello-storm": hello_storm,
    "slow-headers": slow_headers,
}


async def run(name: str, target: Target, seconds: float, scale: float) -> dict[str, Any]:
    attack = Attack(target, seconds, scale)
    started = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await ATTACKS[name](attack)
    replies = sorted(attack.reply_seconds)
    return {
        "attack": name,
        "seconds": round(time.monotonic() - started, 1),
        "outcomes": dict(attack.outcomes.most_common()),
        "reply_s_median": round(replies[len(replies) // 2], 2) if replies else None,
        "reply_s_max": round(replies[-1], 2) if replies else None,
        **attack.figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("attack", choices=sorted(ATTACKS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--site-key", required=True)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--scale", type=float, default=1.0, help="sockets and rates, scaled")
    args = parser.parse_args()
    raise_fd_limit()  # ~1,000 sockets of one attack
    url = urlsplit(args.url)
    target = Target(url.hostname or "127.0.0.1", url.port or 80, args.site_key, ORIGIN)
    print(json.dumps(asyncio.run(run(args.attack, target, args.seconds, args.scale))))


if __name__ == "__main__":
    main()
