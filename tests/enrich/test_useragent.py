"""Browser, OS and device type from real User-Agent strings."""

from __future__ import annotations

import pytest

from replay_server.enrich.useragent import parse_user_agent

CASES = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        ("Chrome", "120", "Windows", "desktop"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        ("Mobile Safari", "17", "iOS", "mobile"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        ("Mobile Safari", "16", "iOS", "tablet"),
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ("Firefox", "121", "Ubuntu", "desktop"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        ("Edge", "120", "Windows", "desktop"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        ("Chrome Mobile", "120", "Android", "mobile"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/119.0.0.0 Safari/537.36",
        ("Chrome", "119", "Android", "tablet"),
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("Googlebot", "2", "Other", "bot"),
    ),
]


@pytest.mark.parametrize(("user_agent", "expected"), CASES)
def test_real_user_agents(user_agent: str, expected: tuple[str, str, str, str]) -> None:
    info = parse_user_agent(user_agent)
    assert (info.browser, info.browser_version, info.os, info.device) == expected


def test_empty_and_junk_user_agents_are_other_desktop() -> None:
    for junk in ("", "\x00\x01 nonsense", "x" * 5000):
        info = parse_user_agent(junk)
        assert info.device == "desktop"
        assert info.browser == "Other"
