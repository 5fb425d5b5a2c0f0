"""Reverse proxies named in REPLAY_TRUSTED_PROXIES: their X-Forwarded-For and
X-Forwarded-Proto are believed, nobody else's."""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

from replay_server.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def parse_trusted_proxies(spec: str) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16, ::1` -> networks; a bad entry is a ConfigError."""
    networks: list[Network] = []
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as e:
            raise ConfigError(f"REPLAY_TRUSTED_PROXIES: {item!r} is not an IP or CIDR") from e
    return tuple(networks)


def is_trusted(address: str | None, spec: str) -> bool:
    if not address or not spec:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in parse_trusted_proxies(spec))


def request_is_secure(request: web.Request, trusted_proxies: str) -> bool:
    """True for https, directly or through a trusted proxy's X-Forwarded-Proto."""
    if request.secure:
        return True
    if not is_trusted(request.remote, trusted_proxies):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "")
    return proto.split(",")[0].strip().lower() == "https"


def client_ip(request: web.Request, trusted_proxies: str) -> str | None:
    """The visitor's address: walk X-Forwarded-For from the right while the hop
    that added an entry is a trusted proxy; the first untrusted one is the client."""
    address = request.remote
    if not is_trusted(address, trusted_proxies):
        return address
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        address = hop
        if not is_trusted(hop, trusted_proxies):
            break
    return address
