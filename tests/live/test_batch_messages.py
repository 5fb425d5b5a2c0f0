"""Acked batches published as their spool payload: decoded only where the
session is watched, and the same events a viewer gets from decoded batches."""

from __future__ import annotations

import asyncio
from typing import Any

from replay_server.live import LiveMessage, LocalBroker
from replay_server.live.redis_broker import decode_message, encode_batch, encode_message
from replay_server.spool.records import SpoolEntry, encode_spool_payload
from tests.rrweb_events import mouse_move, now_ms, page_events

SID = "8d3b1f52-61a4-4c58-9a55-0b8f1d7f3c21"


def payload(seq: int, events: list[dict[str, Any]]) -> bytes:
    return encode_spool_payload(SpoolEntry(1, SID, seq, 0, events))


async def test_a_watched_session_gets_the_events_of_a_published_payload() -> None:
    broker = LocalBroker()
    events = page_events(now_ms(), items=1)
    await broker.publish_batch(SID, 0, 0, b"not even msgpack")  # nobody watches: not decoded
    async with broker.subscribe(SID) as sub:
        await broker.publish_batch(SID, 1, 0, payload(1, events))
        message = await asyncio.wait_for(sub.next(), 1)
        assert sub.queue.empty()
    assert message == LiveMessage(SID, 1, 0, events)


def test_batch_and_event_messages_cross_redis_alike() -> None:
    events = [mouse_move(now_ms(), x=7)]
    as_payload = decode_message(encode_batch(SID, 3, 2, payload(3, events)))
    as_events = decode_message(encode_message(LiveMessage(SID, 3, 2, events)))
    assert as_payload == as_events == LiveMessage(SID, 3, 2, events)
