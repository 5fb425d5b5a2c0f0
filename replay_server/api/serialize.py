"""The JSON shape of sessions (the player codes against exactly this)."""

from __future__ import annotations

from typing import Any

from replay_server.db.models import PageView, RecordedSession
from replay_server.db.scope import ChunkSpan, ChunkSummary
from replay_server.db.search import LIVE_WINDOW_MS
from replay_server.timeutil import iso_utc


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
        "browser_version": session.browser_version,
        "country": session.country,
        "referrer_domain": session.referrer_domain,
        "exit_url": session.exit_url,
        "utm": {
            "source": session.utm_source,
            "medium": session.utm_medium,
            "campaign": session.utm_campaign,
            "term": session.utm_term,
            "content": session.utm_content,
        },
        "click_count": session.click_count,
        "input_count": session.input_count,
        "rage_click_count": session.rage_click_count,
        "dead_click_count": session.dead_click_count,
        "error_count": session.error_count,
        "active_ms": session.active_ms,
    }


def page_view(view: PageView) -> dict[str, Any]:
    return {
        "page": view.page,
        "url": view.url,
        "path": view.path,
        "title": view.title,
        "started_at_ms": view.started_ms,
        "ended_at_ms": view.ended_ms,
        "duration_ms": None if view.ended_ms is None else max(0, view.ended_ms - view.started_ms),
    }


def chunk_span(span: ChunkSpan) -> dict[str, Any]:
    return {
        "idx": span.idx,
        "page": span.page,
        "first_ts": span.first_ts,
        "last_ts": span.last_ts,
        "events": span.events,
        "raw_bytes": span.raw_bytes,
        "has_full_snapshot": span.has_full_snapshot,
    }


def session_detail(
    session: RecordedSession,
    pages: list[PageView],
    chunks: ChunkSummary,
    now: int,
    spans: list[ChunkSpan] | None = None,
) -> dict[str, Any]:
    return {
        **session_summary(session, now),
        "pages": [page_view(p) for p in pages],
        "chunks": {
            "count": chunks.count,
            "raw_bytes": chunks.raw_bytes,
            "stored_bytes": chunks.stored_bytes,
            "items": [chunk_span(s) for s in spans or []],
        },
    }
