"""The session search's query string parsed into a SessionQuery: dates, times
and milliseconds; durations in seconds; flags; choices; bad values are 400s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from replay_server.api.search_params import MAX_URL_LENGTH, filter_values, parse_session_query
from replay_server.db.search import DEFAULT_SESSION_LIMIT, MAX_SESSION_LIMIT, SessionQuery
from replay_server.errors import InvalidMessage


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def test_an_empty_query_is_the_default_search() -> None:
    assert parse_session_query({}) == SessionQuery()
    assert parse_session_query({"url": "  ", "sort": ""}) == SessionQuery()


def test_filters_are_parsed() -> None:
    q = parse_session_query(
        {
            "url": " /checkout ",
            "url_match": "prefix",
            "min_duration": "30",
            "max_duration": "600",
            "device": "mobile",
            "country": "de",
            "referrer": "WWW.Example.com",
            "has_errors": "yes",
            "has_rage_clicks": "OFF",
            "live": "1",
            "sort": "longest",
            "limit": "5",
        }
    )
    assert (q.url, q.url_match, q.sort, q.limit) == ("/checkout", "prefix", "longest", 5)
    assert (q.min_duration_ms, q.max_duration_ms) == (30_000, 600_000)
    assert (q.device, q.country, q.referrer) == ("mobile", "DE", "example.com")
    assert (q.has_errors, q.has_rage_clicks, q.has_dead_clicks, q.live) == (
        True,
        False,
        None,
        True,
    )


def test_times_dates_and_milliseconds() -> None:
    day = parse_session_query({"from": "2024-03-01", "to": "2024-03-01"})
    assert day.started_from == ms(2024, 3, 1)
    assert day.started_to == ms(2024, 3, 2) - 1  # `to` a date: the whole of that day
    minute = parse_session_query({"from": "2024-03-01T10:30:00+02:00", "to": "2024-03-01T10:30"})
    assert minute.started_from == ms(2024, 3, 1, 8, 30)
    assert minute.started_to == ms(2024, 3, 1, 10, 31) - 1  # to=10:30 includes 10:30
    assert parse_session_query({"from": "1700000000000"}).started_from == 1_700_000_000_000
    assert parse_session_query({"to": "2024-03-01T10:30:15Z"}).started_to == ms(
        2024, 3, 1, 10, 30, 15
    )


def test_filter_values_are_the_present_stripped_ones() -> None:
    assert filter_values({"url": " /a ", "os": "", "limit": "5", "nope": "x"}) == {"url": "/a"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2024-03-02", "to": "2024-03-01"}, "from must not be after to"),
        ({"from": "yesterday"}, "from must be a date"),
        ({"min_duration": "10", "max_duration": "5"}, "min_duration must not be more"),
        ({"min_duration": "1.5"}, "min_duration must be a whole number"),
        ({"max_duration": "-1"}, "max_duration must be a whole number"),
        ({"max_duration": str(10 * 365 * 86400 + 1)}, "max_duration must be a whole number"),
        ({"url": "/" * (MAX_URL_LENGTH + 1)}, "url is longer than"),
        ({"browser": "x" * 201}, "browser is longer than 200"),
        ({"os": "Linux\x00"}, "os contains control characters"),
        ({"device": "fridge"}, "device must be one of"),
        ({"url_match": "regex"}, "url_match must be one of"),
        ({"sort": "random"}, "sort must be one of"),
        ({"country": "DEU"}, "country must be a two-letter"),
        ({"has_errors": "maybe"}, "has_errors must be true or false"),
        ({"limit": "0"}, f"limit must be between 1 and {MAX_SESSION_LIMIT}"),
        ({"limit": str(MAX_SESSION_LIMIT + 1)}, "limit must be between"),
        ({"cursor": "x" * 401}, "invalid cursor"),
    ],
)
def test_bad_values_are_invalid_parameters(query: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidMessage, match=message) as caught:
        parse_session_query(query)
    assert caught.value.code == "invalid_parameter"


def test_the_default_limit() -> None:
    assert parse_session_query({"limit": " "}).limit == DEFAULT_SESSION_LIMIT
    assert parse_session_query({"limit": str(MAX_SESSION_LIMIT)}).limit == MAX_SESSION_LIMIT
