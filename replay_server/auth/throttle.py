"""Brute-force protection of password checks: failed attempts are counted in a
sliding window per account and per client IP. Once either count is full, every
attempt (even with the right password) is refused until the oldest failure
leaves the window. Per process: each server node counts on its own."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from replay_server.errors import RateLimited

MAX_KEYS = 100_000


class FailureWindow:
    """At most `limit` failures per key within `window` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        if self.limit <= 0:
            return 0.0
        times = self._recent(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - self._clock())

    def add(self, key: str) -> None:
        if self.limit <= 0:
            return
        times = self._recent(key)
        if times is None:
            if len(self._failures) >= MAX_KEYS:
                self._prune()
            times = self._failures[key] = deque(maxlen=self.limit)
        times.append(self._clock())

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _prune(self) -> None:
        horizon = self._clock() - self.window
        self._failures = {k: t for k, t in self._failures.items() if t and t[-1] > horizon}
        if len(self._failures) >= MAX_KEYS:
            self._failures.clear()


class LoginThrottle:
    """Failed password checks per account (normalised email) and per client IP."""

    def __init__(self, per_account: FailureWindow, per_ip: FailureWindow) -> None:
        self.per_account = per_account
        self.per_ip = per_ip

    def check(self, account: str, ip: str | None) -> None:
        """Raise RateLimited (with the wait in its message) when either key is full."""
        wait = self.per_account.retry_after(account)
        if ip:
            wait = max(wait, self.per_ip.retry_after(ip))
        if wait > 0:
            raise ThrottledLogin(math.ceil(wait))

    def failed(self, account: str, ip: str | None) -> None:
        self.per_account.add(account)
        if ip:
            self.per_ip.add(ip)

    def succeeded(self, account: str) -> None:
        """A correct password ends the account's count (not the IP's)."""
        self.per_account.clear(account)


class ThrottledLogin(RateLimited):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-in attempts. Wait {retry_after_seconds} s and try again.",
            code="too_many_attempts",
        )
        self.retry_after_seconds = retry_after_seconds
