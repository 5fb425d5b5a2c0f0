"""Token buckets per key (client IP, session, site): a steady rate with a burst
allowance. A charge over several buckets is all or nothing: a refused charge
spends no token anywhere. Memory is bounded: idle buckets are forgotten.

Fairness is per session and per site; per client IP only what costs the server
without helping a visitor is limited (new sessions, WebSocket opens), at rates
that 1,000 visitors behind one carrier NAT stay under (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from replay_server.errors import RateLimited
from replay_server.ingest.admission import address_key

MAX_KEYS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: float, what: str) -> None:
        self.rate = rate_per_second
        self.burst = max(burst, 1.0)
        self.what = what
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def wait(self, key: str, cost: float, now: float) -> float:
        """Seconds until `key` has `cost` tokens (0.0: now). Spends nothing. A cost
        above the burst is counted as the whole burst, so it is never refused forever."""
        if not self.enabled:
            return 0.0
        bucket = self._bucket(key, now)
        missing = min(cost, self.burst) - bucket.tokens
        return max(0.0, missing / self.rate)

    def spend(self, key: str, cost: float, now: float) -> None:
        if self.enabled:
            bucket = self._bucket(key, now)
            bucket.tokens -= min(cost, self.burst)

    def take(self, key: str, cost: float = 1.0) -> None:
        """Spend `cost` tokens of `key`'s bucket now or raise RateLimited (spending nothing)."""
        charge(((self, key, cost),), max_wait=0.0)

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        elif now > bucket.updated:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill}
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()


Charge = tuple[RateLimiter, str, float]
RECENT_SECONDS = 600.0


class RecentKeys:
    """Keys seen in the last RECENT_SECONDS (at most MAX_KEYS of them)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seen(self, key: str) -> bool:
        """True when `key` was seen recently; remembers it either way."""
        now = time.monotonic()
        last = self._seen.get(key)
        if last is None and len(self._seen) >= MAX_KEYS:
            self._seen = {k: t for k, t in self._seen.items() if now - t < RECENT_SECONDS}
            if len(self._seen) >= MAX_KEYS:
                self._seen.clear()
        self._seen[key] = now
        return last is not None and now - last < RECENT_SECONDS


def charge(charges: Sequence[Charge], *, max_wait: float) -> float:
    """Spend every charge now (returns 0.0), or, when some bucket is short, spend
    nothing and return how long to wait for all of them; RateLimited when that
    is longer than `max_wait`."""
    now = time.monotonic()
    waits = [(limiter.wait(key, cost, now), limiter.what) for limiter, key, cost in charges]
    wait, what = max(waits, default=(0.0, ""))
    if wait > max(max_wait, 0.0):
        raise RateLimited(f"too many messages per {what}; retry later", code="rate_limited")
    if wait == 0.0:
        for limiter, key, cost in charges:
            limiter.spend(key, cost, now)
    return wait


@dataclass(frozen=True)
class IngestRateLimits:
    """The ingest endpoints' limits: new sessions and WebSocket opens per client
    IP; messages and bytes per session and per site."""

    hellos_per_ip: RateLimiter
    connects_per_ip: RateLimiter
    session_messages: RateLimiter
    session_bytes: RateLimiter
    site_messages: RateLimiter
    site_bytes: RateLimiter
    max_wait: float
    sessions: RecentKeys = field(default_factory=RecentKeys)

    def connect(self, client_ip: str | None) -> None:
        """A recorder WebSocket opened."""
        key = address_key(client_ip)
        if key:
            self.connects_per_ip.take(key)

    def hello(self, client_ip: str | None, session: str) -> None:
        """A hello: counted per IP only for a session this node does not know yet
        (a known one is bounded by its own session rate)."""
        key = address_key(client_ip)
        if key and not self.sessions.seen(session):
            self.hellos_per_ip.take(key)

    async def messages(self, session: str, site: str, count: int, nbytes: int) -> None:
        """Charge a session's messages to it and to its site, waiting (up to
        max_wait in all) for tokens that will come: a busy session slows down, the
        others of its site do not."""
        charges: list[Charge] = [
            (self.session_messages, session, count),
            (self.session_bytes, session, nbytes),
            (self.site_messages, site, count),
            (self.site_bytes, site, nbytes),
        ]
        deadline = time.monotonic() + self.max_wait
        while wait := charge(charges, max_wait=deadline - time.monotonic()):
            await asyncio.sleep(wait)
