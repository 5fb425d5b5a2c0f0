"""The JSON shape of sessions the player codes against: live only while
unended and recently seen, pairs only when both halves are known, page
durations never negative."""

from __future__ import annotations

from replay_server.api.serialize import is_live, page_view, session_detail, session_summary
from replay_server.db.models import PageView, RecordedSession
from replay_server.db.scope import ChunkSpan, ChunkSummary
from replay_server.db.search import LIVE_WINDOW_MS

NOW = 1_700_000_000_000


def recorded(**fields: object) -> RecordedSession:
    values: dict[str, object] = {
        "id": "sid-1",
        "site_id": 3,
        "visitor_id": "vid-1",
        "started_ms": NOW - 60_000,
        "last_seen_ms": NOW,
        "ended_ms": None,
        "viewport_w": 1280,
        "viewport_h": 720,
        "screen_w": 1920,
        "screen_h": None,
        "utm_source": "news",
    }
    values.update(fields)
    return RecordedSession(**values)


def test_live_means_unended_and_seen_within_the_window() -> None:
    assert is_live(recorded(), NOW)
    assert is_live(recorded(last_seen_ms=NOW - LIVE_WINDOW_MS), NOW)
    assert not is_live(recorded(last_seen_ms=NOW - LIVE_WINDOW_MS - 1), NOW)
    assert not is_live(recorded(ended_ms=NOW), NOW)


def test_summary_fields() -> None:
    summary = session_summary(recorded(), NOW)
    assert summary["id"] == "sid-1" and summary["site_id"] == 3
    assert summary["started_at"] == "2023-11-14T22:12:20.000Z"
    assert summary["started_at_ms"] == NOW - 60_000
    assert summary["live"] is True
    assert summary["viewport"] == [1280, 720]
    assert summary["screen"] is None  # one half unknown
    assert summary["utm"]["source"] == "news"
    assert set(summary["utm"]) == {"source", "medium", "campaign", "term", "content"}


def test_page_views() -> None:
    view = PageView(page=2, url="https://shop.test/a?b=1", path="/a", title="A", started_ms=5_000)
    assert page_view(view) == {
        "page": 2,
        "url": "https://shop.test/a?b=1",
        "path": "/a",
        "title": "A",
        "started_at_ms": 5_000,
        "ended_at_ms": None,
        "duration_ms": None,
    }
    view.ended_ms = 7_500
    assert page_view(view)["duration_ms"] == 2_500
    view.ended_ms = 4_000  # clocks disagree: never a negative duration
    assert page_view(view)["duration_ms"] == 0


def test_detail_adds_pages_and_chunks() -> None:
    span = ChunkSpan(
        idx=0, page=0, first_ts=1, last_ts=2, events=3, raw_bytes=4, has_full_snapshot=True
    )
    detail = session_detail(recorded(), [], ChunkSummary(1, 400, 100), NOW, [span])
    assert detail["pages"] == []
    assert detail["chunks"] == {
        "count": 1,
        "raw_bytes": 400,
        "stored_bytes": 100,
        "items": [
            {
                "idx": 0,
                "page": 0,
                "first_ts": 1,
                "last_ts": 2,
                "events": 3,
                "raw_bytes": 4,
                "has_full_snapshot": True,
            }
        ],
    }
    assert session_detail(recorded(), [], ChunkSummary(0, 0, 0), NOW)["chunks"]["items"] == []
