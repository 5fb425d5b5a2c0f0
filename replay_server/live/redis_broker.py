"""Live view across nodes: the LiveBroker protocol over Redis pub/sub.

Every acked batch is PUBLISHed (msgpack; its events as the spool payload
when the ingest path has not decoded them) on the session's channel
`replay:live:<session id>`; whichever node has viewers of that session is
SUBSCRIBEd to the channel and hands the messages to its local subscriptions.
A node subscribes only to the channels of sessions its viewers watch, over one
Redis connection for all of them. Local viewers get their messages through
Redis too, so every viewer sees one order.

Redis is a best-effort side channel: a failed PUBLISH is logged and does not
fail the ack (the batch is durable already), and when the subscription
connection drops, local viewers are marked `overflowed` (they missed messages
and reload from the events API) while redis-py reconnects and resubscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from replay_server.errors import ConfigError, ReplayError, StorageError
from replay_server.live.broker import LiveMessage, LocalBroker, Subscription, batch_events

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "replay:live:"
READ_TIMEOUT_SECONDS = 1.0
RETRY_SECONDS = 1.0
HEALTH_CHECK_SECONDS = 30


def channel_for(session_id: str) -> str:
    return CHANNEL_PREFIX + session_id


def encode_message(message: LiveMessage) -> bytes:
    packed: bytes = msgpack.packb(
        {
            "s": message.session_id,
            "q": message.seq,
            "p": message.page,
            "e": message.events,
            "x": message.ended,
        },
        use_bin_type=True,
    )
    return packed


def encode_batch(session_id: str, seq: int, page: int, payload: bytes) -> bytes:
    """A batch message whose events travel as the spool payload (`b`), not
    decoded and encoded again by the publishing node."""
    packed: bytes = msgpack.packb(
        {"s": session_id, "q": seq, "p": page, "b": payload, "x": False}, use_bin_type=True
    )
    return packed


def decode_message(data: bytes) -> LiveMessage:
    value = msgpack.unpackb(data, raw=False)
    events = batch_events(value["b"]) if "b" in value else list(value["e"])
    return LiveMessage(
        session_id=str(value["s"]),
        seq=int(value["q"]),
        page=int(value["p"]),
        events=events,
        ended=bool(value["x"]),
    )


class RedisBroker:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._pubsub = client.pubsub()
        self._local = LocalBroker()
        self._channels: set[str] = set()
        self._channels_lock = asyncio.Lock()
        self._subscribed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._publish_failures = 0

    @classmethod
    async def connect(cls, url: str) -> RedisBroker:
        """Connect and check Redis answers; a node with a bad REDIS_URL fails at start."""
        client = aioredis.from_url(
            url,
            socket_connect_timeout=5,
            socket_timeout=5,
            health_check_interval=HEALTH_CHECK_SECONDS,  # notices a silently dead connection
        )
        try:
            await client.ping()
        except (RedisError, OSError) as e:
            await client.aclose()
            raise ConfigError(f"cannot reach Redis at REPLAY_REDIS_URL: {e}") from e
        broker = cls(client)
        broker._reader = asyncio.create_task(broker._read_loop(), name="live-redis-reader")
        return broker

    async def publish(self, message: LiveMessage) -> None:
        await self._publish(message.session_id, encode_message(message))

    async def publish_batch(self, session_id: str, seq: int, page: int, payload: bytes) -> None:
        # The payload as it is: the node whose viewers watch decodes it.
        await self._publish(session_id, encode_batch(session_id, seq, page, payload))

    async def _publish(self, session_id: str, data: bytes) -> None:
        try:
            await self._redis.publish(channel_for(session_id), data)
        except (RedisError, OSError) as e:
            self._publish_failures += 1
            if self._publish_failures == 1 or self._publish_failures % 1000 == 0:
                log.warning("live: PUBLISH failed (%d so far): %s", self._publish_failures, e)

    @contextlib.asynccontextmanager
    async def subscribe(self, session_id: str) -> AsyncIterator[Subscription]:
        try:
            async with self._local.subscribe(session_id) as sub:
                await self._sync_channel(session_id)
                yield sub
        finally:
            await self._sync_channel(session_id)  # unsubscribes after the last viewer

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._local.close()
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    # -- internals --------------------------------------------------------

    async def _sync_channel(self, session_id: str) -> None:
        """Subscribe to the session's channel while it has local viewers, not longer."""
        channel = channel_for(session_id)
        async with self._channels_lock:
            wanted = self._local.has_subscribers(session_id)
            if wanted and channel not in self._channels:
                try:
                    await self._pubsub.subscribe(channel)
                except (RedisError, OSError) as e:
                    raise StorageError(f"live view is unavailable (Redis: {e})") from e
                self._channels.add(channel)
                self._subscribed.set()
            elif not wanted and channel in self._channels:
                self._channels.discard(channel)
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    async def _read_loop(self) -> None:
        while True:
            if not self._pubsub.subscribed:
                self._subscribed.clear()
                await self._subscribed.wait()
                continue
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READ_TIMEOUT_SECONDS
                )
            except (RedisError, OSError) as e:
                log.warning("live: Redis subscription interrupted: %s", e)
                self._mark_all_missed()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message is not None and message.get("type") == "message":
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            live = decode_message(message["data"])
        except (ValueError, KeyError, TypeError, msgpack.UnpackException, ReplayError):
            log.warning("live: undecodable message on %r ignored", message.get("channel"))
            return
        self._local.deliver(live)

    def _mark_all_missed(self) -> None:
        for subs in self._local.subscriptions():
            subs.overflowed = True
