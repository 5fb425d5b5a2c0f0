"""PostgreSQL's way to the sessions that visited a URL (db/search.py calls it
once the probe of the newest sessions has not filled a page).

A substring is first matched against the site's distinct URLs (`page_urls`,
migration 0003: thousands of rows where page_views holds millions), then the
page views of those URLs are found through b-tree indexes: by path through
the covering ix_page_views_site_path (no heap reads) when the path alone
selects only matching URLs, by URL through ix_page_views_site_url otherwise.
Prefix and exact matches go to those b-trees directly. The session query
then gets the matching ids as one array parameter (UrlMatcher).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, Text, bindparam, false, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CompoundSelect

from replay_server.db.models import PageView, RecordedSession
from replay_server.db.search_ddl import page_url_lookup_sql

URL_CAP = 5000  # more matching distinct URLs: the term is common, walk instead
RARE_URLS = 200  # at most this many matching distinct URLs ...
FIRST_CAP = 2000  # ... and page views: a rare substring, no probe first
HIT_CAP = 20_000  # more matching page views: let the planner join instead
_TEXTS = ARRAY(Text)
_IDS = ARRAY(String(36))
Views = Select[Any] | CompoundSelect[Any]


class UrlMatcher:
    """Conditions on RecordedSession.id selecting the site's sessions with a
    page view matching `page_match` (the condition on PageView;
    `like_pattern`: the escaped ILIKE pattern of a substring).

    Prefix and exact: a semi-join; the planner estimates a path range well
    and hashes the matching sessions (index-only) or walks the sessions.
    Substring: up to HIT_CAP page views (`cap` sessions) the ids are fetched
    (index-only for paths) and passed as an array, so that the planner knows
    how many there are (it cannot estimate a list of paths): a few are looked
    up one by one, many make it walk the sessions in sort order on an index,
    testing each against the (hashed) array. More: a semi-join."""

    def __init__(
        self,
        db: AsyncSession,
        site_id: int,
        url: str,
        url_match: str,
        page_match: ColumnElement[bool],
        like_pattern: str,
    ) -> None:
        self.db, self.site_id, self.url, self.url_match = db, site_id, url, url_match
        self.page_match, self.like_pattern = page_match, like_pattern
        self._views: Views | None = None
        self._looked_up = False

    async def rare(self, cap: int) -> ColumnElement[bool] | None:
        """A substring of at most RARE_URLS distinct URLs and FIRST_CAP page
        views: their sessions (cheaper than probing the newest sessions
        first); else None."""
        if self.url_match != "contains" or cap <= 0:
            return None
        views = await self._substring_views(RARE_URLS)
        return None if views is None else await self._ids(views, FIRST_CAP, cap)

    async def condition(self, cap: int) -> ColumnElement[bool] | None:
        """The matching sessions, or None when a walk in sort order is the
        better plan (more than URL_CAP distinct URLs contain the substring)."""
        if self.url_match != "contains":
            return RecordedSession.id.in_(_views(self.site_id, self.page_match))
        views = await self._substring_views(URL_CAP)
        if views is None:
            return None
        ids = await self._ids(views, HIT_CAP, cap)
        return RecordedSession.id.in_(views) if ids is None else ids

    async def _ids(self, views: Views, hit_cap: int, cap: int) -> ColumnElement[bool] | None:
        """`id = ANY(:ids)` for at most `hit_cap` page views and `cap`
        sessions, else None. One row (the count and an array): thousands of
        ids cost little to decode."""
        hits = views.limit(hit_cap + 1).subquery()
        stmt = select(func.count(), func.array_agg(hits.c.session_id.distinct()))
        count, ids = (await self.db.execute(stmt)).one()
        if count > hit_cap or len(ids or ()) > cap:
            return None
        return RecordedSession.id == func.any(bindparam("ids", ids, _IDS)) if ids else false()

    async def _substring_views(self, url_cap: int) -> Views | None:
        """A statement selecting the session ids of the site's page views that
        contain the substring, or None when more than `url_cap` distinct URLs
        do. A complete answer is kept for the next call."""
        if self._looked_up:
            return self._views
        views = await _substring_views(self.db, self.site_id, self.url, self.like_pattern, url_cap)
        if views is not None or url_cap >= URL_CAP:
            self._views, self._looked_up = views, True
        return views


async def _substring_views(
    db: AsyncSession, site_id: int, url: str, like_pattern: str, url_cap: int
) -> Views | None:
    result = await db.execute(
        text(page_url_lookup_sql(whole_url="://" in url)),
        {"site": site_id, "pattern": like_pattern, "n": url_cap + 1},
    )
    rows = result.all()
    if len(rows) > url_cap:
        return None
    paths = sorted({str(r[1]) for r in rows if r[2]})
    urls = [str(r[0]) for r in rows if not r[2]]
    parts: list[Select[Any]] = []
    if paths:  # first: index-only
        parts.append(_views(site_id, PageView.path == func.any(bindparam("paths", paths, _TEXTS))))
    if urls:
        parts.append(_views(site_id, PageView.url == func.any(bindparam("urls", urls, _TEXTS))))
    if not parts:
        return _views(site_id, false())
    return parts[0] if len(parts) == 1 else parts[0].union_all(parts[1])


def _views(site_id: int, condition: ColumnElement[bool]) -> Select[Any]:
    return select(PageView.session_id).where(PageView.site_id == site_id, condition)
