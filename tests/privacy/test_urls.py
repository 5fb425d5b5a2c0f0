"""URL redaction (privacy/urls.py): a table of URLs and what may be stored. The
table (tests/fixtures/url_redaction.json) is shared with the recorder's unit
test (recorder-js/test/urls.test.ts): both sides redact alike."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from replay_server.privacy.urls import UrlPolicy, redact_event_urls, redact_url, secret_name

TABLE = json.loads((Path(__file__).parent.parent / "fixtures" / "url_redaction.json").read_text())


@pytest.mark.parametrize(("url", "expected"), TABLE["default"])
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(expected) == expected  # idempotent


@pytest.mark.parametrize(("url", "expected"), TABLE["lists"]["cases"])
def test_site_lists(url: str, expected: str) -> None:
    # a denied custom name is redacted, an allowed default name ("code") kept;
    # allowing a name never lets an e-mail address through
    lists = TABLE["lists"]
    assert redact_url(url, UrlPolicy.from_lists(lists["allow"], lists["deny"])) == expected


def test_a_name_in_both_lists_is_denied() -> None:
    assert secret_name("x", UrlPolicy.from_lists(["x"], ["x"]))
    assert not secret_name("X", UrlPolicy.from_lists(["x"], []))


def test_meta_events() -> None:
    events: list[dict[str, Any]] = [
        {"type": 4, "data": {"href": "https://a.example/?token=abc#x", "width": 1}, "timestamp": 1},
        {"type": 4, "data": {"href": "https://a.example/ok"}, "timestamp": 2},
        {"type": 3, "data": {"href": "https://a.example/?token=abc"}, "timestamp": 3},
    ]
    assert redact_event_urls(events, UrlPolicy()) == 1
    assert events[0]["data"]["href"] == "https://a.example/?token=REDACTED"
    assert events[2]["data"]["href"] == "https://a.example/?token=abc"  # not a Meta event


@pytest.mark.parametrize(
    "tail", ["a" * 1_000_000 + "@", "a." * 400_000 + "@x", "x@" + "a-" * 400_000]
)
def test_long_hostile_urls_cost_little_and_keep_only_the_origin(tail: str) -> None:
    # unbounded e-mail patterns backtracked quadratically here (1 s per 8,000 characters)
    started = time.perf_counter()
    assert redact_url("https://user@a.example/p?" + tail) == "https://a.example/"
    assert redact_url("https://a.example/" + "b" * 8200 + "/jane@example.org.x") == (
        "https://a.example/"
    )
    assert time.perf_counter() - started < 0.5
