"""In-memory state of the sessions this node is receiving."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from replay_server.enrich.behaviour import InsightCarry
from replay_server.spool.records import PendingBatch


@dataclass
class SessionState:
    sid: str
    site_id: int
    acked_seq: int
    started_ms: int = 0
    stored_bytes: int = 0
    pending: list[PendingBatch] = field(default_factory=list)
    pending_bytes: int = 0  # decoded: bounds the memory of cutting them into chunks
    pending_since: float | None = None
    # Each session's chunk-age deadline is spread a little, so sessions that
    # started together (a deploy, a traffic spike) are not all cut at once.
    age_jitter: float = field(default_factory=lambda: random.uniform(0.75, 1.0))
    last_activity: float = field(default_factory=time.monotonic)
    connections: int = 0
    said_bye: bool = False  # the last page left with `bye`; a new hello clears it
    insights: InsightCarry = field(default_factory=InsightCarry)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    cut_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add_pending(self, batch: PendingBatch) -> None:
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(batch)
        self.pending_bytes += batch.raw_bytes

    def drop_pending(self, count: int) -> list[PendingBatch]:
        taken, self.pending = self.pending[:count], self.pending[count:]
        self.pending_bytes -= sum(b.raw_bytes for b in taken)
        self.pending_since = time.monotonic() if self.pending else None
        return taken
