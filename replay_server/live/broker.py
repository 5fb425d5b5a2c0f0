"""The LiveBroker protocol and its in-process implementation.

The ingestor publishes every acked batch; a viewer subscribes to one session.
A slow viewer never slows ingest: each subscription has a bounded queue and a
viewer that falls behind is told so (`overflowed`) and drops off; it reloads
from the events API. A multi-node deployment swaps in a Redis-backed broker
with the same protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from replay_server.spool.records import decode_spool_payload

QUEUE_LIMIT = 256


@dataclass(frozen=True)
class LiveMessage:
    """One acked batch of a session (or the end of the session)."""

    session_id: str
    seq: int
    page: int
    events: list[dict[str, Any]]
    ended: bool = False


def batch_events(payload: bytes) -> list[dict[str, Any]]:
    """The events of a spool payload (a batch the ingest path accepted)."""
    return decode_spool_payload(payload).events


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[LiveMessage] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, message: LiveMessage) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self) -> LiveMessage:
        return await self.queue.get()


class LiveBroker(Protocol):
    async def publish(self, message: LiveMessage) -> None: ...

    async def publish_batch(self, session_id: str, seq: int, page: int, payload: bytes) -> None:
        """Publish an acked batch as the spool holds it (ingest.chunker's spool
        payload): its events are decoded only where someone watches the session,
        not on the ingest path for every batch."""
        ...

    def subscribe(
        self, session_id: str
    ) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


class LocalBroker:
    """Viewers and recorders on the same node."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def publish(self, message: LiveMessage) -> None:
        self.deliver(message)

    async def publish_batch(self, session_id: str, seq: int, page: int, payload: bytes) -> None:
        if session_id in self._subscribers:
            self.deliver(LiveMessage(session_id, seq, page, batch_events(payload)))

    def deliver(self, message: LiveMessage) -> None:
        for sub in self._subscribers.get(message.session_id, ()):
            sub.offer(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, session_id: str) -> AsyncIterator[Subscription]:
        sub = Subscription()
        self._subscribers.setdefault(session_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subscribers.get(session_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[session_id]

    def has_subscribers(self, session_id: str) -> bool:
        return session_id in self._subscribers

    def subscriptions(self) -> list[Subscription]:
        """Every open subscription, of every session."""
        return [sub for subs in self._subscribers.values() for sub in subs]

    async def close(self) -> None:
        self._subscribers.clear()
