"""The node-local live broker: a batch reaches the viewers of its session only,
a slow viewer overflows instead of growing without bound, and a session's
entry goes when its last viewer leaves."""

from __future__ import annotations

from replay_server.live.broker import QUEUE_LIMIT, LiveMessage, LocalBroker, batch_events
from replay_server.spool.records import SpoolEntry, encode_spool_payload
from tests.rrweb_events import mouse_move

EVENTS = [mouse_move(1_000), mouse_move(1_050, x=30)]


def payload(sid: str, seq: int) -> bytes:
    return encode_spool_payload(SpoolEntry(site_id=1, sid=sid, seq=seq, page=0, events=EVENTS))


async def test_batches_reach_the_viewers_of_their_session_only() -> None:
    broker = LocalBroker()
    async with broker.subscribe("a") as first, broker.subscribe("a") as second:
        async with broker.subscribe("b") as other:
            await broker.publish_batch("a", 4, 0, payload("a", 4))
            expected = LiveMessage("a", 4, 0, EVENTS)
            assert await first.next() == expected
            assert await second.next() == expected
            assert other.queue.empty()
            assert len(broker.subscriptions()) == 3
        assert not broker.has_subscribers("b")
        assert broker.has_subscribers("a")
    assert not broker.has_subscribers("a")
    assert broker.subscriptions() == []


async def test_nobody_watching_decodes_nothing() -> None:
    broker = LocalBroker()
    # Not a spool payload at all: with no viewer it is never decoded.
    await broker.publish_batch("a", 1, 0, b"\xc1 not msgpack")
    await broker.publish(LiveMessage("a", 0, 0, [], ended=True))
    assert broker.subscriptions() == []


async def test_a_slow_viewer_overflows_at_the_queue_limit() -> None:
    broker = LocalBroker()
    async with broker.subscribe("a") as viewer:
        for seq in range(QUEUE_LIMIT):
            await broker.publish(LiveMessage("a", seq, 0, []))
        assert not viewer.overflowed
        await broker.publish(LiveMessage("a", QUEUE_LIMIT, 0, []))
        assert viewer.overflowed
        assert viewer.queue.qsize() == QUEUE_LIMIT
        assert (await viewer.next()).seq == 0


async def test_close_forgets_every_viewer() -> None:
    broker = LocalBroker()
    async with broker.subscribe("a"):
        await broker.close()
        assert not broker.has_subscribers("a")
    # leaving after close is harmless
    assert broker.subscriptions() == []


def test_batch_events_decode_a_spool_payload() -> None:
    assert batch_events(payload("a", 9)) == EVENTS
