"""Brute-force protection of password checks, shaped so that an attacker slows
only itself (docs/privacy.md, "Sign-in throttling"). Failures are counted in
sliding windows:

- per account and client IP: when full, that address may not try that account;
- per client IP, any account: a ceiling on what one address may guess;
- per account, every address: against guessing spread over many addresses.
  When full, it refuses only addresses that failed on that account recently
  (until their own failures leave the window): an address that never failed,
  the owner's, still signs in, so nobody can lock an account by failing on it.

Once refused, even the right password is refused: guessing gains nothing.
Per process: each server node counts on its own."""

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

    def clear_after(self, key: str) -> float:
        """Seconds until every failure of `key` has left the window; 0 when none is in it."""
        times = self._recent(key) if self.limit > 0 else None
        if times is None:
            return 0.0
        return max(0.0, times[-1] + self.window - self._clock())

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
    """Failed password checks per account (normalised email) and client IP, per
    client IP, and per account."""

    def __init__(
        self, per_account_and_ip: FailureWindow, per_ip: FailureWindow, per_account: FailureWindow
    ) -> None:
        self.per_account_and_ip = per_account_and_ip
        self.per_ip = per_ip
        self.per_account = per_account

    def check(self, account: str, ip: str | None) -> None:
        """Raise ThrottledLogin (with the wait in its message) when this address
        may not try this account now."""
        pair = _pair(account, ip)
        wait = self.per_account_and_ip.retry_after(pair)
        if ip:
            wait = max(wait, self.per_ip.retry_after(ip))
        own_failures = self.per_account_and_ip.clear_after(pair)
        if own_failures > 0:
            # Free again when the account's count drops or this address's failures expire.
            wait = max(wait, min(self.per_account.retry_after(account), own_failures))
        if wait > 0:
            raise ThrottledLogin(math.ceil(wait))

    def failed(self, account: str, ip: str | None) -> None:
        self.per_account_and_ip.add(_pair(account, ip))
        self.per_account.add(account)
        if ip:
            self.per_ip.add(ip)

    def succeeded(self, account: str, ip: str | None) -> None:
        """A correct password ends this address's count for the account; not the
        account's (that would let an attacker's addresses start afresh), nor the
        address's (one account of its own must not reset guessing at others)."""
        self.per_account_and_ip.clear(_pair(account, ip))


def _pair(account: str, ip: str | None) -> str:
    return f"{account}\n{ip or ''}"


class ThrottledLogin(RateLimited):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-in attempts. Wait {retry_after_seconds} s and try again.",
            code="too_many_attempts",
        )
        self.retry_after_seconds = retry_after_seconds
