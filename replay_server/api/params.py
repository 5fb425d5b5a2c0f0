"""Query-string parsing for the API: bad values are InvalidMessage (400)."""

from __future__ import annotations

import re

from aiohttp import web

from replay_server.api.search_params import parse_session_query
from replay_server.db import scope
from replay_server.errors import InvalidMessage, NotFound

MAX_DB_INT_DIGITS = 18  # anything longer cannot be a row id (and would overflow SQLite)
MAX_DB_INT = 10**MAX_DB_INT_DIGITS - 1
MAX_ROW_ID = 2**31 - 1  # ids are 32-bit INTEGER columns (PostgreSQL refuses larger)
_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(
    request: web.Request,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """An integer parameter within [minimum, maximum] and always within what a
    64-bit column holds; ASCII digits only (int() also takes "1_000" and other
    scripts' digits)."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    if not _INTEGER.fullmatch(raw):
        raise InvalidMessage(f"{name} must be an integer", code="invalid_parameter")
    low = -MAX_DB_INT if minimum is None else max(minimum, -MAX_DB_INT)
    high = MAX_DB_INT if maximum is None else min(maximum, MAX_DB_INT)
    # Digits are counted before int(): Python refuses strings of over 4,300 digits.
    if len(raw.lstrip("+-")) > MAX_DB_INT_DIGITS or not low <= int(raw) <= high:
        raise InvalidMessage(f"{name} must be between {low} and {high}", code="invalid_parameter")
    return int(raw)


def id_in_path(request: web.Request, name: str) -> int:
    """A numeric id from the URL path; anything else is simply not found."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ROW_ID:
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
