"""Session search of one site: the filters and sorts of the session list (API
and dashboard), with keyset pagination for every sort.

Callers go through db/scope.py, which checks the site belongs to the caller's
organisation first; nothing here looks at organisations.

URL search matches any page view of a session, in three steps, cheapest
first: (1) probe the newest PROBE_ROWS sessions that pass the other filters
(a common URL fills a page there); (2) on SQLite, if at most `candidate_cap`
sessions of the site match, fetch their ids through the URL index (FTS5
trigram, or the path index; db/search_ddl.py) and run the session query over
just those; on PostgreSQL, a semi-join with the matching sessions found
through the site's distinct URLs (db/search_pg.py), for the planner to
choose; (3) otherwise walk the site's sessions in sort order, probing each
one's page views.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    exists,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from replay_server.db.models import PageView, RecordedSession
from replay_server.db.rollup_tables import ElementClick
from replay_server.db.search_ddl import SITE_ROWID_SHIFT, url_rest_sql
from replay_server.db.search_pg import UrlMatcher
from replay_server.errors import InvalidMessage

DEFAULT_SESSION_LIMIT = 50
MAX_SESSION_LIMIT = 200
LIVE_WINDOW_MS = 90_000
CANDIDATE_CAP = 20_000  # SQLite: HIT_CAP binds first
PROBE_ROWS = 300
HIT_CAP = 5000
URL_MATCHES = ("contains", "exact", "prefix")
SORTS: dict[str, InstrumentedAttribute[int]] = {
    "newest": RecordedSession.started_ms,
    "longest": RecordedSession.duration_ms,
    "most_active": RecordedSession.active_ms,
}
LIKE_ESCAPE = "/"
_CURSOR_KEY = re.compile(r"-?[0-9]{1,18}")  # within a signed 64-bit integer
_CURSOR_ID = re.compile(r"[!-~]{1,64}")  # printable ASCII: session ids are UUIDs
_MAX_CHAR = "\U0010ffff"


def _invalid(message: str) -> InvalidMessage:
    return InvalidMessage(message, code="invalid_parameter")


@dataclass(frozen=True)
class SessionCursor:
    """Keyset position: the sort, its key and the id of the last session of a page."""

    sort: str
    key: int
    id: str

    def encode(self) -> str:
        raw = f"{self.sort}:{self.key}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> SessionCursor:
        """A cursor this module encoded, or 400 invalid_parameter: the key must
        fit a 64-bit column and the id be printable ASCII (no NUL for
        PostgreSQL), whatever a client puts in it."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            sort, key, session_id = raw.split(":", 2)
            if sort not in SORTS or not _CURSOR_KEY.fullmatch(key):
                raise ValueError("bad cursor")
            if not _CURSOR_ID.fullmatch(session_id):
                raise ValueError("bad cursor")
            return cls(sort, int(key), session_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise _invalid("invalid cursor") from e


@dataclass(frozen=True)
class SessionQuery:
    url: str = ""
    url_match: str = "contains"  # contains (case-insensitive) | exact | prefix
    started_from: int | None = None  # ms, inclusive
    started_to: int | None = None  # ms, inclusive
    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    browser: str = ""
    os: str = ""
    device: str = ""
    country: str = ""
    referrer: str = ""  # referrer domain
    visitor: str = ""
    has_errors: bool | None = None
    has_rage_clicks: bool | None = None
    has_dead_clicks: bool | None = None
    live: bool | None = None
    clicked: str = ""  # an element's selector (insight rollups): sessions that clicked it
    sort: str = "newest"
    limit: int = DEFAULT_SESSION_LIMIT
    cursor: SessionCursor | None = None

    def __post_init__(self) -> None:
        if self.url_match not in URL_MATCHES:
            raise _invalid("url_match must be one of contains, exact, prefix")
        if self.sort not in SORTS:
            raise _invalid("sort must be one of newest, longest, most_active")
        if self.cursor is not None and self.cursor.sort != self.sort:
            raise _invalid("cursor belongs to another sort")


@dataclass(frozen=True)
class SessionPage:
    sessions: list[RecordedSession]
    next_cursor: str | None


async def search_sessions(
    db: AsyncSession,
    site_id: int,
    query: SessionQuery,
    now_ms: int,
    *,
    candidate_cap: int = CANDIDATE_CAP,
    probe_rows: int = PROBE_ROWS,
) -> SessionPage:
    """One keyset page of the site's sessions matching `query`, in its sort order."""
    key = SORTS[query.sort]
    where = [RecordedSession.site_id == site_id, *_session_filters(query, now_ms)]
    if query.clicked:
        where.append(_clicked(site_id, query))
    if query.cursor is not None:
        where.append(tuple_(key, RecordedSession.id) < (query.cursor.key, query.cursor.id))
    order = (key.desc(), RecordedSession.id.desc())
    limit = query.limit + 1
    if query.url:
        plan = _UrlPlan(db, site_id, query, where, order, limit)
        rows = await plan.run(candidate_cap, probe_rows)
    else:
        stmt = select(RecordedSession).where(*where).order_by(*order).limit(limit)
        rows = list((await db.scalars(stmt)).all())
    sessions = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = sessions[-1]
        next_cursor = SessionCursor(query.sort, int(getattr(last, key.key)), last.id).encode()
    return SessionPage(sessions, next_cursor)


class _UrlPlan:
    """The three ways to find sessions by URL, cheapest first (module docstring)."""

    def __init__(
        self,
        db: AsyncSession,
        site_id: int,
        query: SessionQuery,
        where: list[ColumnElement[bool]],
        order: tuple[Any, ...],
        limit: int,
    ) -> None:
        self.db, self.site_id, self.query = db, site_id, query
        self.where, self.order, self.limit = where, order, limit
        self.dialect = db.get_bind().dialect.name
        self.visited = exists().where(
            PageView.session_id == RecordedSession.id,
            _page_matches(self.dialect, query.url, query.url_match),
        )

    async def run(self, candidate_cap: int, probe_rows: int) -> list[RecordedSession]:
        if self.dialect == "postgresql":
            return await self._pg_run(candidate_cap, probe_rows)
        indexed_first = self.query.url_match == "contains"  # FTS5 stops at its cap
        if probe_rows > 0 and not indexed_first:
            rows = await self._probe(probe_rows)
            if len(rows) >= self.limit:
                return rows
        ids = await _url_candidates(self.db, self.dialect, self.site_id, self.query, candidate_cap)
        if ids is None:
            return await self._fetch(self.visited)
        if not ids:
            return []
        return await self._fetch(RecordedSession.id.in_(ids))

    async def _probe(self, probe_rows: int) -> list[RecordedSession]:
        """The newest `probe_rows` sessions passing the other filters: when the
        URL is common, a full page of results is among them."""
        recent = (
            select(RecordedSession.id)
            .where(*self.where)
            .order_by(*self.order)
            .limit(probe_rows)
            .scalar_subquery()
        )
        return await self._fetch(RecordedSession.id.in_(recent), self.visited)

    async def _pg_run(self, cap: int, probe_rows: int) -> list[RecordedSession]:
        """Rare substrings straight from the URL dictionary, else the probe,
        then the matching sessions (db/search_pg.py); ids only first, so that
        a walk in sort order can be an index-only scan, then the page's rows.
        A prepared statement's generic plan knows neither a LIKE prefix (no
        index range: a scan of the site's page views) nor an array's length:
        this transaction's URL search plans with the values."""
        await self.db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        q = self.query
        match = _page_matches(self.dialect, q.url, q.url_match)
        pattern = f"%{escape_like(q.url)}%"
        matcher = UrlMatcher(self.db, self.site_id, q.url, q.url_match, match, pattern)
        condition = await matcher.rare(cap)
        if condition is None:
            if probe_rows > 0:
                rows = await self._probe(probe_rows)
                if len(rows) >= self.limit:
                    return rows
            condition = await matcher.condition(cap) if cap > 0 else None
        if condition is None:
            return await self._fetch(self.visited)
        ids_stmt = (
            select(RecordedSession.id)
            .where(*self.where, condition)
            .order_by(*self.order)
            .limit(self.limit)
        )
        ids = list((await self.db.scalars(ids_stmt)).all())
        return await self._fetch(RecordedSession.id.in_(ids)) if ids else []

    async def _fetch(self, *conditions: ColumnElement[bool]) -> list[RecordedSession]:
        stmt = (
            select(RecordedSession)
            .where(*self.where, *conditions)
            .order_by(*self.order)
            .limit(self.limit)
        )
        return list((await self.db.scalars(stmt)).all())


def _session_filters(q: SessionQuery, now_ms: int) -> list[ColumnElement[bool]]:
    s = RecordedSession
    conditions: list[ColumnElement[bool]] = []
    if q.started_from is not None:
        conditions.append(s.started_ms >= q.started_from)
    if q.started_to is not None:
        conditions.append(s.started_ms <= q.started_to)
    if q.min_duration_ms is not None:
        conditions.append(s.duration_ms >= q.min_duration_ms)
    if q.max_duration_ms is not None:
        conditions.append(s.duration_ms <= q.max_duration_ms)
    for column, value in (
        (s.browser, q.browser),
        (s.os, q.os),
        (s.device, q.device),
        (s.country, q.country),
        (s.referrer_domain, q.referrer),
        (s.visitor_id, q.visitor),
    ):
        if value:
            conditions.append(column == value)
    for count, wanted in (
        (s.error_count, q.has_errors),
        (s.rage_click_count, q.has_rage_clicks),
        (s.dead_click_count, q.has_dead_clicks),
    ):
        if wanted is not None:
            conditions.append(count > 0 if wanted else count == 0)
    if q.live is not None:
        live = s.ended_ms.is_(None) & (s.last_seen_ms >= now_ms - LIVE_WINDOW_MS)
        conditions.append(live if q.live else ~live)
    return conditions


def _page_matches(dialect: str, url: str, match: str) -> ColumnElement[bool]:
    """The condition on one page view for `url` under `match`.

    contains: case-insensitive, in the URL's path, query and fragment (the
    indexed part), or in the whole URL when the value has a scheme (`://`).
    prefix / exact: a value starting with `/` is compared with the path,
    anything else with the whole URL; case-sensitive."""
    if match == "contains":
        target = PageView.url if "://" in url else _rest_column(dialect)
        return target.ilike(f"%{escape_like(url)}%", escape=LIKE_ESCAPE)
    column = PageView.path if url.startswith("/") else PageView.url
    if match == "exact":
        return column == url
    if dialect == "postgresql":  # a LIKE prefix can use the text_pattern_ops index
        return column.like(f"{escape_like(url)}%", escape=LIKE_ESCAPE)
    return (column >= url) & (column < url + _MAX_CHAR)  # BINARY collation: a b-tree range


def _clicked(site_id: int, q: SessionQuery) -> ColumnElement[bool]:
    """Sessions that clicked the element `q.clicked`, on a page whose path
    matches `q.url` when one is given (element_clicks knows paths only)."""
    clicks = ElementClick
    conditions = [clicks.site_id == site_id, clicks.selector == q.clicked]
    if q.url:
        path = urlsplit(q.url).path or "/" if "://" in q.url else q.url
        conditions.append(path_matches(clicks.path, path, q.url_match))
    return RecordedSession.id.in_(select(clicks.session_id).where(*conditions))


def _rest_column(dialect: str) -> ColumnElement[str]:
    return literal_column(url_rest_sql(dialect, "page_views.url"), String)


async def _url_candidates(
    db: AsyncSession, dialect: str, site_id: int, q: SessionQuery, cap: int
) -> list[str] | None:
    """Ids of the site's sessions with a matching page, or None when there are
    more than `cap` (then a scan in sort order is the faster plan)."""
    if q.url_match == "contains" and (len(q.url) < 3 or "://" in q.url):
        return None  # the trigram index needs three characters and covers no hosts
    if dialect == "sqlite" and q.url_match == "contains":
        return await _fts_candidates(db, site_id, q.url, cap)
    # At most HIT_CAP matching page views (more: the URL is common, scan instead).
    stmt: Select[Any] = (
        select(PageView.session_id)
        .where(PageView.site_id == site_id, _page_matches(dialect, q.url, q.url_match))
        .limit(HIT_CAP + 1)
    )
    hits = list((await db.scalars(stmt)).all())
    ids = list(dict.fromkeys(hits))
    return None if len(hits) > HIT_CAP or len(ids) > cap else ids


async def _fts_candidates(db: AsyncSession, site_id: int, url: str, cap: int) -> list[str] | None:
    """One pass over the site's rowid range of the FTS5 index: up to
    HIT_CAP matching page views (more means the term is common here, and
    walking the sessions is faster), then their sessions. The first row is a
    marker with the hit count (session ids never start with '#')."""
    base = site_id * SITE_ROWID_SHIFT
    rows = await db.scalars(
        text(
            "WITH hits AS MATERIALIZED (SELECT rowid - :base AS r FROM page_views_fts "
            "WHERE page_views_fts MATCH :q AND rowid >= :base AND rowid < :next LIMIT :n) "
            "SELECT '#' || (SELECT count(*) FROM hits) UNION ALL SELECT * FROM ("
            "SELECT DISTINCT pv.session_id FROM page_views AS pv "
            "WHERE pv.rowid IN (SELECT r FROM hits) AND pv.site_id = :site "
            "AND (SELECT count(*) FROM hits) < :n LIMIT :cap)"
        ),
        {
            "q": '"' + url.replace('"', '""') + '"',
            "base": base,
            "next": base + SITE_ROWID_SHIFT,
            "n": HIT_CAP,
            "site": site_id,
            "cap": cap + 1,
        },
    )
    marker, *ids = [str(r) for r in rows.all()]
    if int(marker.lstrip("#")) >= HIT_CAP or len(ids) > cap:
        return None
    return ids


def path_matches(column: InstrumentedAttribute[str], path: str, match: str) -> ColumnElement[bool]:
    """A path column against `path` under `match` (exact, prefix, or a
    case-insensitive substring), as the session search and the reports match
    paths their rollups and click index keep."""
    if match == "exact":
        return column == path
    if match == "prefix":
        return column.like(f"{escape_like(path)}%", escape=LIKE_ESCAPE)
    return column.ilike(f"%{escape_like(path)}%", escape=LIKE_ESCAPE)


def escape_like(value: str) -> str:
    """`value` literal in a LIKE pattern escaped with LIKE_ESCAPE."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
