"""Web origins (`scheme://host[:port]`) in the one form browsers send in the
Origin header, so that an allowed origin and a request's origin compare equal."""

from __future__ import annotations

from urllib.parse import urlsplit

from replay_server.errors import ReplayError

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOrigin(ReplayError):
    """Not an http(s) origin. Same code as the account errors it replaced."""

    code = "invalid_account"


def normalise_origin(url: str) -> str:
    """`HTTPS://Shop.Example:443/path` -> `https://shop.example`; an IPv6 literal
    keeps its brackets (`http://[::1]:8080`), as browsers send it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise InvalidOrigin(f"invalid origin {url!r}: {e}") from e
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidOrigin(f"invalid origin {url!r}: only http and https origins are allowed")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise InvalidOrigin(f"invalid origin {url!r}: expected scheme://host[:port]")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise InvalidOrigin(f"invalid origin {url!r}: bad host name") from e
    if ":" in host:  # IPv6 literal: urlsplit dropped the brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_or_empty(value: str) -> str:
    """normalise_origin for untrusted request headers: "" when not an origin."""
    try:
        return normalise_origin(value)
    except InvalidOrigin:
        return ""
