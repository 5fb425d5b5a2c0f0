"""Server-side metadata of a visit that is not in the User-Agent: the country
(from the client IP, offline: iptocc, or a MaxMind database when
`REPLAY_GEOIP_MMDB` names one, see `geoip.py`), the IP as the site's `ip_mode`
allows it to be stored, the referrer's domain, the entry URL's UTM parameters
and a URL's path. The country is derived from the full address before it is
truncated; the full address is stored only when a site asks for `ip_mode: full`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

import iptocc

IPV4_KEEP_BITS = 24
IPV6_KEEP_BITS = 48
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_UTM_LENGTH = 200
MAX_DOMAIN_LENGTH = 255


@dataclass(frozen=True)
class VisitOrigin:
    country: str  # ISO 3166-1 alpha-2, "" when unknown
    ip: str  # as stored: "", truncated or full


class CountryLookup(Protocol):
    """Where the country of a client address comes from (ISO 3166-1 alpha-2, "" when
    unknown). One per app, under keys.COUNTRIES."""

    def country(self, address: str | None) -> str: ...


class IptoccCountries:
    """The built-in offline table (iptocc); global addresses only."""

    def country(self, address: str | None) -> str:
        return country_of(address)


@lru_cache(maxsize=8192)
def country_of(address: str | None) -> str:
    ip = client_ip(address)
    if ip is None or not ip.is_global:
        return ""
    code = iptocc.country_code(str(ip))
    return code.upper() if isinstance(code, str) and len(code) == 2 else ""


def client_ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, an IPv4-mapped IPv6 one (`::ffff:203.0.113.77`, how a
    dual-stack listener reports IPv4 clients) as the IPv4 address it is."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def stored_ip(address: str | None, mode: str) -> str:
    """The address as `mode` allows storing it: nothing, its /24 (IPv4) or /48
    (IPv6) network address, or all of it. An unknown mode stores nothing."""
    ip = client_ip(address) if mode in ("truncated", "full") else None
    if ip is None:
        return ""
    if mode == "full":
        return str(ip)
    if ip.version == 6 and ip.sixtofour is not None:
        ip = ip.sixtofour  # a 6to4 /48 is 2002:AABB:CCDD::, the whole IPv4 address
    bits = IPV4_KEEP_BITS if ip.version == 4 else IPV6_KEEP_BITS
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def visit_origin(address: str | None, ip_mode: str, countries: CountryLookup) -> VisitOrigin:
    return VisitOrigin(country=countries.country(address), ip=stored_ip(address, ip_mode))


def referrer_domain(referrer: str) -> str:
    """`https://www.Google.com/search?q=x` -> `google.com` ("" for none or junk)."""
    try:
        host = (urlsplit(referrer.strip()).hostname or "").lower()
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    return host[:MAX_DOMAIN_LENGTH]


def utm_params(url: str) -> dict[str, str]:
    """The five UTM parameters of a URL (missing ones are "")."""
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    found = {k: v for k, v in parse_qsl(query) if k in UTM_KEYS}
    return {k: found.get(k, "")[:MAX_UTM_LENGTH] for k in UTM_KEYS}


def url_path(url: str) -> str:
    """The path of a URL (`/` when it has none); a URL that is only a path stays one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts.path or "/"
