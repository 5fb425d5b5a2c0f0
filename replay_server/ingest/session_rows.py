"""Opening sessions and page views for a group of hellos in one transaction
(the Catalog's group commit): a few statements for the whole group, whatever
its size.

Rows are locked in id order (PostgreSQL; SQLite has one writer), the order in
which every group transaction of the ingest path takes them, so that two
nodes' groups never deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from replay_server.db.models import PAGE_VIEWS, SESSIONS
from replay_server.enrich.useragent import parse_user_agent
from replay_server.enrich.visitmeta import VisitOrigin, referrer_domain, url_path, utm_params
from replay_server.errors import Forbidden
from replay_server.protocol import Hello
from replay_server.text import cut_utf8

# A page view's URL and path are keys of the search's b-tree indexes, which
# PostgreSQL caps at 2,704 bytes a row: what is longer is stored cut (the
# session's entry and exit URLs keep up to protocol.MAX_URL).
MAX_INDEXED_URL_BYTES = 2000


@dataclass(frozen=True)
class SessionCursor:
    """Where a session's stored data ends: what the next batch follows."""

    chunked_seq: int
    started_ms: int = 0
    raw_bytes: int = 0


@dataclass(frozen=True)
class OpenRequest:
    """A connection's hello: create or continue its session and page view."""

    site_id: int
    hello: Hello
    user_agent: str
    now_ms: int
    origin: VisitOrigin


def insert_ignoring_conflicts(dialect: str, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: a row another node inserted first wins."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def open_sessions(
    db: AsyncSession, requests: list[OpenRequest]
) -> list[SessionCursor | Exception]:
    """One result per request: the session's cursor, or Forbidden for a sid
    that belongs to another site (nothing is written for that request)."""
    dialect = (await db.connection()).dialect.name
    sids = sorted({r.hello.sid for r in requests})
    rows = await _lock_sessions(db, sids)
    new: dict[str, dict[str, Any]] = {}
    for r in requests:
        if r.hello.sid not in rows and r.hello.sid not in new:
            new[r.hello.sid] = new_session_row(r)
    if new:
        await db.execute(
            insert_ignoring_conflicts(dialect, SESSIONS), [new[s] for s in sorted(new)]
        )
        rows.update(await _lock_sessions(db, sorted(new)))  # ours, or another node's
    views = await _page_view_titles(db, [(r.hello.sid, r.hello.page) for r in requests])
    changes = _Changes()
    results: list[SessionCursor | Exception] = []
    for r in requests:
        row = rows[r.hello.sid]
        if row["site_id"] != r.site_id:
            results.append(
                Forbidden("this session belongs to another site", code="session_site_mismatch")
            )
            continue
        changes.add(r, row, views)
        results.append(SessionCursor(row["chunked_seq"], row["started_ms"], row["raw_bytes"]))
    await changes.write(db, dialect)
    return results


class _Changes:
    """What a group of hellos changes, applied with one statement per kind."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.new_views: dict[tuple[str, int], dict[str, Any]] = {}
        self.titles: dict[tuple[str, int], str] = {}

    def add(self, r: OpenRequest, row: dict[str, Any], views: dict[tuple[str, int], str]) -> None:
        hello = r.hello
        session = self.sessions.setdefault(
            hello.sid,
            {"b_id": hello.sid, "page_count": row["page_count"], "exit_url": row["exit_url"]},
        )
        session["ended_ms"] = None
        session["last_seen_ms"] = max(session.get("last_seen_ms", 0), r.now_ms)
        key = (hello.sid, hello.page)
        if key not in views:
            views[key] = hello.title
            self.new_views[key] = {
                "session_id": hello.sid,
                "page": hello.page,
                "site_id": r.site_id,
                "url": cut_utf8(hello.url, MAX_INDEXED_URL_BYTES),
                "path": cut_utf8(url_path(hello.url), MAX_INDEXED_URL_BYTES),
                "title": hello.title,
                "started_ms": r.now_ms,
            }
            if hello.page + 1 >= session["page_count"]:
                session["exit_url"] = hello.url
            session["page_count"] = max(session["page_count"], hello.page + 1)
        elif hello.title and views[key] != hello.title:
            views[key] = hello.title
            if key in self.new_views:
                self.new_views[key]["title"] = hello.title
            else:
                self.titles[key] = hello.title

    async def write(self, db: AsyncSession, dialect: str) -> None:
        if self.sessions:
            await db.execute(
                update(SESSIONS).where(SESSIONS.c.id == bindparam("b_id")),
                [self.sessions[sid] for sid in sorted(self.sessions)],
            )
        if self.new_views:
            await db.execute(
                insert_ignoring_conflicts(dialect, PAGE_VIEWS),
                [self.new_views[k] for k in sorted(self.new_views)],
            )
        if self.titles:
            await db.execute(
                update(PAGE_VIEWS).where(
                    PAGE_VIEWS.c.session_id == bindparam("b_sid"),
                    PAGE_VIEWS.c.page == bindparam("b_page"),
                ),
                [
                    {"b_sid": sid, "b_page": page, "title": title}
                    for (sid, page), title in sorted(self.titles.items())
                ],
            )


async def _lock_sessions(db: AsyncSession, sids: list[str]) -> dict[str, dict[str, Any]]:
    columns = [
        SESSIONS.c[name]
        for name in ("id", "site_id", "chunked_seq", "started_ms", "raw_bytes", "page_count")
    ]
    query = (
        select(*columns, SESSIONS.c.exit_url)
        .where(SESSIONS.c.id.in_(sids))
        .order_by(SESSIONS.c.id)
        .with_for_update()
    )
    return {row.id: dict(row._mapping) for row in await db.execute(query)}


async def _page_view_titles(
    db: AsyncSession, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    query = select(PAGE_VIEWS.c.session_id, PAGE_VIEWS.c.page, PAGE_VIEWS.c.title).where(
        tuple_(PAGE_VIEWS.c.session_id, PAGE_VIEWS.c.page).in_(sorted(set(keys)))
    )
    return {(row.session_id, row.page): row.title for row in await db.execute(query)}


def new_session_row(r: OpenRequest) -> dict[str, Any]:
    hello, now_ms = r.hello, r.now_ms
    client = parse_user_agent(r.user_agent)
    utm = utm_params(hello.url)
    return {
        "id": hello.sid,
        "site_id": r.site_id,
        "visitor_id": hello.vid,
        "started_ms": now_ms,
        "last_seen_ms": now_ms,
        "duration_ms": 0,
        "page_count": 0,
        "chunked_seq": -1,
        "chunk_count": 0,
        "event_count": 0,
        "raw_bytes": 0,
        "stored_bytes": 0,
        "entry_url": hello.url,
        "exit_url": hello.url,
        "referrer": hello.referrer,
        "referrer_domain": referrer_domain(hello.referrer),
        "user_agent": r.user_agent[:512],
        "browser": client.browser,
        "browser_version": client.browser_version,
        "os": client.os,
        "device": client.device,
        "viewport_w": hello.viewport[0] if hello.viewport else None,
        "viewport_h": hello.viewport[1] if hello.viewport else None,
        "screen_w": hello.screen[0] if hello.screen else None,
        "screen_h": hello.screen[1] if hello.screen else None,
        "lang": hello.lang,
        "tz": hello.tz,
        "country": r.origin.country,
        "ip": r.origin.ip,
        **utm,
        "click_count": 0,
        "input_count": 0,
        "rage_click_count": 0,
        "dead_click_count": 0,
        "error_count": 0,
        "active_ms": 0,
    }
