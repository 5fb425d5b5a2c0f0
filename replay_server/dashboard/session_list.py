"""The session list page's data: rows, the filter form's state and the links
(next page, clear). Filters live in the query string, so a search is a
shareable link and the back button walks through searches."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from replay_server.api.search_params import DEVICES, FILTER_NAMES, filter_values
from replay_server.api.serialize import is_live
from replay_server.dashboard.display import duration_display, started_display
from replay_server.db.models import RecordedSession
from replay_server.db.search import SessionPage
from replay_server.timeutil import iso_utc

# Everything but the URL search and the sort, which have their own fields.
ADVANCED_FILTERS = tuple(n for n in FILTER_NAMES if n not in ("url", "url_match", "sort"))
SORT_LABELS = {
    "newest": "newest first",
    "longest": "longest first",
    "most_active": "most active first",
}


def canonical_url(path: str, query: dict[str, str]) -> str | None:
    """The search without the form's empty fields, when it had any (so shared
    links stay short); None when the query string is already clean."""
    if all(v.strip() for v in query.values()):
        return None
    clean = {k: v.strip() for k, v in query.items() if v.strip()}
    return f"{path}?{urlencode(clean)}" if clean else path


def session_row(session: RecordedSession, now: int) -> dict[str, Any]:
    return {
        "id": session.id,
        "started_at": iso_utc(session.started_ms),
        "started_at_display": started_display(session.started_ms),
        "duration_display": duration_display(session.duration_ms),
        "entry_url": session.entry_url,
        "page_count": session.page_count,
        "browser": session.browser,
        "browser_version": session.browser_version,
        "os": session.os,
        "device": session.device,
        "country": session.country,
        "clicks": session.click_count,
        "errors": session.error_count,
        "rage_clicks": session.rage_click_count,
        "dead_clicks": session.dead_click_count,
        "live": is_live(session, now),
    }


def list_context(path: str, query: dict[str, str], page: SessionPage, now: int) -> dict[str, Any]:
    """Everything sessions.html shows apart from the site."""
    filters = filter_values(query)
    next_url = None
    if page.next_cursor is not None:
        next_url = f"{path}?{urlencode({**filters, 'cursor': page.next_cursor})}"
    return {
        "filters": filters,
        "filtered": any(k != "sort" for k in filters),
        "advanced_open": any(k in filters for k in ADVANCED_FILTERS),
        "devices": DEVICES,
        "sort_label": SORT_LABELS[filters.get("sort", "newest")],
        "sessions": [session_row(s, now) for s in page.sessions],
        "next_url": next_url,
        # From a heatmap: the element filter has no field of its own; a chip shows it.
        "clicked": filters.get("clicked", ""),
        "without_clicked_url": f"{path}?{urlencode(_without(filters, 'clicked'))}",
    }


def _without(filters: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in filters.items() if k != name}
