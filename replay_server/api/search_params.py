"""The session search's query string (API and dashboard share it): parsing
and validation into a `SessionQuery`; a bad value is 400 invalid_parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from replay_server.db.search import (
    DEFAULT_SESSION_LIMIT,
    MAX_SESSION_LIMIT,
    SORTS,
    URL_MATCHES,
    SessionCursor,
    SessionQuery,
)
from replay_server.errors import InvalidMessage

FILTER_NAMES = (
    "url",
    "url_match",
    "from",
    "to",
    "min_duration",
    "max_duration",
    "browser",
    "os",
    "device",
    "country",
    "referrer",
    "visitor",
    "has_errors",
    "has_rage_clicks",
    "has_dead_clicks",
    "live",
    "clicked",
    "sort",
)
DEVICES = ("desktop", "mobile", "tablet", "bot")
MAX_URL_LENGTH = 2000
MAX_TEXT_LENGTH = 200
MAX_SELECTOR_LENGTH = 400  # enrich/nodetree.py's longest selector
MAX_DURATION_SECONDS = 10 * 365 * 86400
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_DAY_MS = 86_400_000


def _invalid(message: str) -> InvalidMessage:
    return InvalidMessage(message, code="invalid_parameter")


def filter_values(query: Mapping[str, str]) -> dict[str, str]:
    """The raw, stripped filter values present in a query string."""
    values = {name: query.get(name, "").strip() for name in FILTER_NAMES}
    return {k: v for k, v in values.items() if v}


def parse_session_query(query: Mapping[str, str]) -> SessionQuery:
    v = filter_values(query)
    started_from = _time(v, "from", end_of_day=False)
    started_to = _time(v, "to", end_of_day=True)
    if started_from is not None and started_to is not None and started_from > started_to:
        raise _invalid("from must not be after to")
    min_duration = _seconds(v, "min_duration")
    max_duration = _seconds(v, "max_duration")
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise _invalid("min_duration must not be more than max_duration")
    sort = _choice(v, "sort", tuple(SORTS), "newest")
    return SessionQuery(
        url=_text(v, "url", MAX_URL_LENGTH),
        url_match=_choice(v, "url_match", URL_MATCHES, "contains"),
        started_from=started_from,
        started_to=started_to,
        min_duration_ms=min_duration,
        max_duration_ms=max_duration,
        browser=_text(v, "browser"),
        os=_text(v, "os"),
        device=_choice(v, "device", DEVICES, ""),
        country=_country(v),
        referrer=_text(v, "referrer").lower().removeprefix("www."),
        visitor=_text(v, "visitor"),
        has_errors=_flag(v, "has_errors"),
        has_rage_clicks=_flag(v, "has_rage_clicks"),
        has_dead_clicks=_flag(v, "has_dead_clicks"),
        live=_flag(v, "live"),
        clicked=_text(v, "clicked", MAX_SELECTOR_LENGTH),
        sort=sort,
        limit=_limit(query),
        cursor=_cursor(query),
    )


def _text(v: Mapping[str, str], name: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    value = v.get(name, "")
    if len(value) > max_length:
        raise _invalid(f"{name} is longer than {max_length} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise _invalid(f"{name} contains control characters")
    return value


def _choice(v: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = v.get(name, "")
    if not value:
        return default
    if value not in choices:
        raise _invalid(f"{name} must be one of {', '.join(choices)}")
    return value


def _country(v: Mapping[str, str]) -> str:
    value = v.get("country", "")
    if value and not _COUNTRY.match(value):
        raise _invalid("country must be a two-letter ISO 3166 code")
    return value.upper()


def _flag(v: Mapping[str, str], name: str) -> bool | None:
    value = v.get(name, "").lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _invalid(f"{name} must be true or false")


def _seconds(v: Mapping[str, str], name: str) -> int | None:
    value = v.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_DURATION_SECONDS:
        raise _invalid(f"{name} must be a whole number of seconds")
    return int(value) * 1000


def _time(v: Mapping[str, str], name: str, *, end_of_day: bool) -> int | None:
    """Milliseconds since the epoch, an ISO date (for `to`: the end of that day)
    or an ISO date and time (UTC unless it carries an offset)."""
    value = v.get(name, "")
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 15:
        return int(value)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            ms = int(start.timestamp() * 1000)
            return ms + _DAY_MS - 1 if end_of_day else ms
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise _invalid(f"{name} must be a date, a date and time, or milliseconds") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    if end_of_day and moment.second == 0 and moment.microsecond == 0 and "T" in value:
        ms += int(timedelta(minutes=1).total_seconds() * 1000) - 1  # to=...T10:30 includes 10:30
    return ms


def _limit(query: Mapping[str, str]) -> int:
    raw = query.get("limit", "").strip()
    if not raw:
        return DEFAULT_SESSION_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_SESSION_LIMIT:
        raise _invalid(f"limit must be between 1 and {MAX_SESSION_LIMIT}")
    return int(raw)


def _cursor(query: Mapping[str, str]) -> SessionCursor | None:
    raw = query.get("cursor", "").strip()
    if len(raw) > 400:
        raise _invalid("invalid cursor")
    return SessionCursor.decode(raw) if raw else None
