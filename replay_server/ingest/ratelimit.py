"""Token buckets per key (client IP, site): a steady rate with a burst allowance.
Memory is bounded: idle buckets are forgotten."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import RateLimited

MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: float, what: str) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.what = what
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, cost: float = 1.0) -> None:
        """Spend `cost` tokens of `key`'s bucket or raise RateLimited."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens < cost:
            raise RateLimited(f"too many batches per {self.what}", code="rate_limited")
        bucket.tokens -= cost

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill}
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()


class IngestRateLimits:
    """The per-IP and per-site message rates of the ingest endpoints."""

    def __init__(self, per_ip: RateLimiter, per_site: RateLimiter) -> None:
        self.per_ip = per_ip
        self.per_site = per_site

    def take(self, client_ip: str | None, site_id: int | None) -> None:
        if client_ip:
            self.per_ip.take(client_ip)
        if site_id is not None:
            self.per_site.take(str(site_id))
