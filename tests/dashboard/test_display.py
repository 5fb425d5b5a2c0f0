"""How the dashboard shows durations and times, and where login may send a
visitor next (a local path only: no open redirect)."""

from __future__ import annotations

import pytest

from replay_server.dashboard.display import duration_display, safe_next, started_display


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (-5, "0s"),
        (999, "0s"),
        (59_000, "59s"),
        (60_000, "1m 00s"),
        (61_500, "1m 01s"),
        (3_599_000, "59m 59s"),
        (3_600_000, "1h 00m"),
        (3_600_000 * 26 + 5 * 60_000 + 30_000, "26h 05m"),
    ],
)
def test_durations(ms: int, shown: str) -> None:
    assert duration_display(ms) == shown


def test_start_times_are_utc() -> None:
    assert started_display(0) == "1970-01-01 00:00:00 UTC"
    assert started_display(1_700_000_000_999) == "2023-11-14 22:13:20 UTC"


@pytest.mark.parametrize("value", ["/", "/sessions/abc?site=1", "/orgs/2/members#x", "/a/b%2F%2Fc"])
def test_local_paths_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "sessions",
        "https://evil.test/",
        "//evil.test/",
        "/\\evil.test",
        "/\tevil",
        "/ok\r\nSet-Cookie: x",
        "/x\x7f",
        "javascript:alert(1)",
    ],
)
def test_anything_else_goes_home(value: str | None) -> None:
    assert safe_next(value) == "/"
