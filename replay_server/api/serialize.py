"""The JSON shape of sessions (the player codes against exactly this)."""

from __future__ import annotations

from typing import Any

from ..db.models import PageView, RecordedSession
from ..db.scope import ChunkSummary
from ..timeutil import iso_utc

LIVE_WINDOW_MS = 90_000


def is_live(session: RecordedSession, now: int) -> bool:
    return session.ended_ms is None and now - session.last_seen_ms <= LIVE_WINDOW_MS


def _pair(w: int | None, h: int | None) -> list[int] | None:
    return None if w is None or h is None else [w, h]


def session_summary(session: RecordedSession, now: int) -> dict[str, Any]:
    return {
        "id": session.id,
        "site_id": session.site_id,
        "visitor_id": session.visitor_id,
        "started_at": iso_utc(session.started_ms),
        "started_at_ms": session.started_ms,
        "last_event_ms": session.last_event_ms,
        "duration_ms": session.duration_ms,
        "live": is_live(session, now),
        "page_count": session.page_count,
        "browser": session.browser,
        "os": session.os,
        "device": session.device,
        "user_agent": session.user_agent,
        "viewport": _pair(session.viewport_w, session.viewport_h),
        "screen": _pair(session.screen_w, session.screen_h),
        "lang": session.lang,
        "tz": session.tz,
        "referrer": session.referrer,
        "entry_url": session.entry_url,
    }


def page_view(view: PageView) -> dict[str, Any]:
    return {
        "page": view.page,
        "url": view.url,
        "title": view.title,
        "started_at_ms": view.started_ms,
        "ended_at_ms": view.ended_ms,
    }


def session_detail(
    session: RecordedSession, pages: list[PageView], chunks: ChunkSummary, now: int
) -> dict[str, Any]:
    return {
        **session_summary(session, now),
        "pages": [page_view(p) for p in pages],
        "chunks": {
            "count": chunks.count,
            "raw_bytes": chunks.raw_bytes,
            "stored_bytes": chunks.stored_bytes,
        },
    }
