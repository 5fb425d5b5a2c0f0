"""What a node lets in at once: connection counts (per node, per client IP), the
bytes of frames and bodies being received, and the deadlines of work in
progress (request headers, frames). Plain bookkeeping, no I/O: the edge
(replay_server/web/conn_guard.py, ws_recorder, http_ingest) asks and refuses."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from replay_server.errors import RateLimited, ReplayError


class TimedOut(ReplayError):
    """A client did not send what it had to in time (hello, a frame, a body)."""

    code = "timeout"
    http_status = 408
    ws_close_code = 4408


def address_key(ip: str | None) -> str | None:
    """What per-address limits count: an IPv4 address, or an IPv6 /64 (one
    subscriber's network: its 2^64 addresses cost an attacker nothing)."""
    if not ip or ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


def too_many_connections() -> RateLimited:
    return RateLimited(
        "too many connections from this address; retry later", code="too_many_connections"
    )


def server_busy() -> RateLimited:
    return RateLimited("the server is receiving too much at once; retry later", code="server_busy")


class Counts:
    """Open things per key, each key capped (cap 0: no cap)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._counts: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        count = self._counts.get(key, 0)
        if self.cap and count >= self.cap:
            return False
        self._counts[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def __getitem__(self, key: str) -> int:
        return self._counts.get(key, 0)

    @contextlib.contextmanager
    def slot(self, key: str | None) -> Iterator[None]:
        """Hold one of the slots of `key` (a client address) for the block, or
        raise too_many_connections."""
        key = address_key(key)
        if key is None:
            yield
            return
        if not self.acquire(key):
            raise too_many_connections()
        try:
            yield
        finally:
            self.release(key)


BIG_MESSAGE = 256 * 1024
SMALL_MESSAGE = 64 * 1024  # may use the budget's headroom
WARN_EVERY_SECONDS = 60.0


class Budget:
    """Bytes being received across the node, as announced by frame and body
    headers. Big messages may use `limit`; small ones (a recorder's usual
    batch) also the headroom above it, half as much again, so that unfinished
    big frames filling the budget do not stop ordinary traffic."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.big_released = 0  # bytes of big messages released since the last take_released()

    def reserve(self, n: int, *, small: bool = False) -> bool:
        cap = self.limit + self.limit // 2 if small else self.limit
        if self.limit and self.used + n > cap:
            return False
        self.used += n
        return True

    def release(self, n: int) -> None:
        self.used = max(0, self.used - n)
        if n >= BIG_MESSAGE:
            self.big_released += n

    def take_released(self) -> int:
        """Bytes of big messages released since the last call (for memory trims)."""
        released, self.big_released = self.big_released, 0
        return released

    @contextlib.contextmanager
    def held(self, n: int) -> Iterator[None]:
        if not self.reserve(n, small=n <= SMALL_MESSAGE):
            raise server_busy()
        try:
            yield
        finally:
            self.release(n)


class Deadlines:
    """Work in progress with a deadline (a request head, a frame): one sweep a
    tick checks them all, instead of a timer per frame."""

    def __init__(self) -> None:
        self._due: dict[object, tuple[float, Callable[[], None]]] = {}

    def arm(self, owner: object, when: float, on_expire: Callable[[], None]) -> None:
        self._due[owner] = (when, on_expire)

    def disarm(self, owner: object) -> None:
        self._due.pop(owner, None)

    def armed(self, owner: object) -> bool:
        return owner in self._due

    def sweep(self, now: float) -> int:
        expired = [(o, cb) for o, (when, cb) in self._due.items() if when <= now]
        for owner, on_expire in expired:
            self._due.pop(owner, None)
            on_expire()
        return len(expired)

    def __len__(self) -> int:
        return len(self._due)


@dataclass
class Admission:
    """The node's admission state, one per application (app[keys.ADMISSION])."""

    max_connections: int
    max_per_ip: int
    inflight: Budget
    connections: Counts = field(init=False)  # TCP connections per untrusted peer
    recorders: Counts = field(init=False)  # recorder connections per client IP
    deadlines: Deadlines = field(default_factory=Deadlines)

    def __post_init__(self) -> None:
        self.connections = Counts(self.max_per_ip)
        self.recorders = Counts(self.max_per_ip)
        self.total = 0
        self._warned_at = -WARN_EVERY_SECONDS

    def warn_due(self, now: float) -> bool:
        """True at most once per WARN_EVERY_SECONDS: refusals under a flood are
        logged once a minute (and counted in /metrics), not once each."""
        if now - self._warned_at < WARN_EVERY_SECONDS:
            return False
        self._warned_at = now
        return True

    def open_tcp(self, peer_ip: str | None) -> ReplayError | None:
        """A TCP connection was accepted: None to serve it, or why to refuse it.
        Peer None: a trusted proxy's, counted in the total only."""
        if self.max_connections and self.total >= self.max_connections:
            return server_busy()
        key = address_key(peer_ip)
        if key is not None and not self.connections.acquire(key):
            return too_many_connections()
        self.total += 1
        return None

    def close_tcp(self, peer_ip: str | None) -> None:
        self.total -= 1
        key = address_key(peer_ip)
        if key is not None:
            self.connections.release(key)
