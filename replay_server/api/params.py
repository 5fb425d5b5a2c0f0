"""Query-string parsing for the API: bad values are InvalidMessage (400)."""

from __future__ import annotations

from aiohttp import web

from ..db import scope
from ..errors import InvalidMessage, NotFound
from .search_params import parse_session_query

MAX_DB_INT_DIGITS = 18  # anything longer cannot be a row id (and would overflow SQLite)


def int_param(
    request: web.Request,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as e:
        raise InvalidMessage(f"{name} must be an integer", code="invalid_parameter") from e
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidMessage(f"{name} must be {bounds}", code="invalid_parameter")
    return value


def id_in_path(request: web.Request, name: str) -> int:
    """A numeric id from the URL path; anything else is simply not found."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_DB_INT_DIGITS:
        raise NotFound(f"{name.removesuffix('_id')} not found")
    return int(raw)


def prefers_msgpack(accept: str) -> bool:
    """True when the Accept header ranks application/msgpack at least as high as JSON."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media = media.lower()
        weights[media] = max(weights.get(media, 0.0), weight)
    msgpack_q = max(
        weights.get("application/msgpack", 0.0), weights.get("application/x-msgpack", 0.0)
    )
    return msgpack_q > 0 and msgpack_q >= weights.get("application/json", 0.0)


def session_query(request: web.Request) -> scope.SessionQuery:
    """The filters, sort and page of a session search (API and dashboard)."""
    return parse_session_query(request.query)
