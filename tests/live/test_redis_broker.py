"""RedisBroker over the real Redis server REPLAY_TEST_REDIS_URL names: what one
node publishes reaches the viewers of another node, and only those who watch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from replay_server import keys
from replay_server.errors import ConfigError
from replay_server.live import LiveMessage
from replay_server.live.redis_broker import RedisBroker, channel_for
from tests.ingest_server import Recorder, start_another_node, start_ingest_server
from tests.procs import free_port
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = pytest.mark.redis


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[RedisBroker, RedisBroker]]:
    a, b = await RedisBroker.connect(redis_url), await RedisBroker.connect(redis_url)
    yield a, b
    await a.close()
    await b.close()


async def subscribers(redis_url: str, session_id: str) -> int:
    client = aioredis.from_url(redis_url)
    try:
        counts = await client.pubsub_numsub(channel_for(session_id))
        return int(counts[0][1])
    finally:
        await client.aclose()


async def test_a_viewer_on_one_node_sees_what_another_publishes(
    nodes: tuple[RedisBroker, RedisBroker], redis_url: str
) -> None:
    a, b = nodes
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    events = [{"type": 3, "timestamp": now_ms(), "data": {"source": 1, "positions": []}}]
    async with b.subscribe(sid) as sub, a.subscribe(sid) as local:
        assert await subscribers(redis_url, sid) == 2
        await a.publish(LiveMessage(other, 0, 0, events))  # nobody here watches it
        await a.publish(LiveMessage(sid, 7, 1, events))
        await a.publish(LiveMessage(sid, 8, 1, [], ended=True))
        got = [await asyncio.wait_for(sub.next(), 5) for _ in range(2)]
        assert got == [LiveMessage(sid, 7, 1, events), LiveMessage(sid, 8, 1, [], ended=True)]
        assert (await asyncio.wait_for(local.next(), 5)).seq == 7  # same node, via Redis too
        assert sub.queue.empty() and not sub.overflowed
    await asyncio.sleep(0.2)  # the unsubscribe is asynchronous on the server side
    assert await subscribers(redis_url, sid) == 0


async def test_two_viewers_one_channel_until_the_last_leaves(
    nodes: tuple[RedisBroker, RedisBroker], redis_url: str
) -> None:
    a, b = nodes
    sid = str(uuid.uuid4())
    async with b.subscribe(sid) as first:
        async with b.subscribe(sid) as second:
            assert await subscribers(redis_url, sid) == 1  # one connection per node
            await a.publish(LiveMessage(sid, 1, 0, []))
            assert (await asyncio.wait_for(second.next(), 5)).seq == 1
        await a.publish(LiveMessage(sid, 2, 0, []))
        assert [(await asyncio.wait_for(first.next(), 5)).seq for _ in range(2)] == [1, 2]
        assert await subscribers(redis_url, sid) == 1
    # Subscribing again right after the last viewer left works (no lost resubscribe).
    async with b.subscribe(sid) as again:
        await a.publish(LiveMessage(sid, 3, 0, []))
        assert (await asyncio.wait_for(again.next(), 5)).seq == 3


async def test_unreachable_redis_fails_at_start() -> None:
    with pytest.raises(ConfigError):
        await RedisBroker.connect(f"redis://127.0.0.1:{free_port()}/0")


async def test_ingest_on_node_a_reaches_a_subscriber_on_node_b(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], redis_url: str
) -> None:
    """Two app instances with REPLAY_REDIS_URL: the broker each builds is a RedisBroker."""
    a = await start_ingest_server(tmp_path / "a", aiohttp_server, redis_url=redis_url)
    b = await start_another_node(a, tmp_path / "b", aiohttp_server)
    assert isinstance(b.app[keys.LIVE], RedisBroker)
    rec = Recorder(a.ws_url, a.site_key)
    await rec.connect()
    t0 = now_ms()
    async with b.app[keys.LIVE].subscribe(rec.sid) as sub:
        await rec.batch(0, page_events(t0, items=1))
        assert (await rec.recv())["seq"] == 0
        await rec.batch(1, [mouse_move(t0 + 500, x=42)])
        assert (await rec.recv())["seq"] == 1
        first, second = [await asyncio.wait_for(sub.next(), 5) for _ in range(2)]
    await rec.close()
    assert (first.seq, second.seq) == (0, 1)
    assert second.events[0]["data"]["positions"][0]["x"] == 42


async def test_a_dropped_subscription_marks_viewers_and_recovers(redis_url: str) -> None:
    """Redis drops the node's subscription connection: its viewers learn they missed
    messages (they reload), and messages flow again after redis-py reconnects."""
    name = f"replay-test-{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in redis_url else "?"
    broker = await RedisBroker.connect(f"{redis_url}{separator}client_name={name}")
    publisher = await RedisBroker.connect(redis_url)
    admin = aioredis.from_url(redis_url)
    sid = str(uuid.uuid4())
    try:
        async with broker.subscribe(sid) as sub:
            clients = await admin.client_list()
            ids = [c["id"] for c in clients if c.get("name") == name and "subscribe" in c["cmd"]]
            assert len(ids) == 1
            await admin.execute_command("CLIENT", "KILL", "ID", ids[0])
            for _ in range(50):
                if sub.overflowed:
                    break
                await asyncio.sleep(0.1)
            assert sub.overflowed
            for seq in range(100):  # until the resubscription is in place
                await publisher.publish(LiveMessage(sid, seq, 0, []))
                try:
                    got = await asyncio.wait_for(sub.next(), 0.2)
                except TimeoutError:
                    continue
                assert got.session_id == sid
                break
            else:
                pytest.fail("no message after the reconnect")
    finally:
        await admin.aclose()
        await publisher.close()
        await broker.close()
