"""PostgreSQL's dictionary of distinct page URLs (migration 0003): filled from
existing page views on upgrade, then kept in step with page_views by its
triggers; a URL leaves it once no page view of its site uses it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from replay_server.db.engine import make_engine, make_session_factory
from replay_server.db.migrate import upgrade
from replay_server.db.search import SessionQuery, search_sessions
from replay_server.enrich.visitmeta import url_path
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres


async def _urls(connection: AsyncConnection) -> set[tuple[int, str]]:
    rows = await connection.execute(text("SELECT site_id, url FROM page_urls"))
    return {(int(r[0]), str(r[1])) for r in rows}


async def _add_views(connection: AsyncConnection, session: str, urls: list[str]) -> None:
    for page, url in enumerate(urls):
        await connection.execute(
            text(
                "INSERT INTO page_views (session_id, page, site_id, url, path, title, started_ms) "
                "VALUES (:s, :p, 1, :u, :path, '', 0)"
            ),
            {"s": session, "p": page, "u": url, "path": url_path(url)},
        )


async def _setup(connection: AsyncConnection) -> None:
    await connection.execute(
        text("INSERT INTO organisations (id, name, created_ms) VALUES (1, 'o', 0)")
    )
    await connection.execute(
        text(
            "INSERT INTO sites (id, org_id, name, public_key, allowed_origins, settings, "
            "created_ms) VALUES (1, 1, 's', 'pk_x', '[]', '{}', 0)"
        )
    )
    for sid in ("a", "b", "c"):
        await connection.execute(
            text(
                "INSERT INTO sessions (id, site_id, visitor_id, started_ms, last_seen_ms, "
                "duration_ms, page_count, chunked_seq, chunk_count, event_count, raw_bytes, "
                "stored_bytes, entry_url, referrer, user_agent, browser, os, device, lang, tz) "
                "VALUES (:id, 1, 'v', 0, 0, 0, 1, -1, 0, 0, 0, 0, '', '', '', '', '', '', '', '')"
            ),
            {"id": sid},
        )


async def test_page_urls_follow_page_views() -> None:
    async with fresh_postgres_database() as url:
        await asyncio.to_thread(upgrade, url, "0002")
        engine = make_engine(url)
        try:
            async with engine.begin() as c:
                await _setup(c)
                await _add_views(c, "a", ["https://x.example/", "https://x.example/old"])
            await asyncio.to_thread(upgrade, url)  # 0003 fills the table from page_views
            async with engine.begin() as c:
                assert await _urls(c) == {(1, "https://x.example/"), (1, "https://x.example/old")}
                await _add_views(c, "b", ["https://x.example/", "https://x.example/cart"])
                await _add_views(c, "c", ["https://x.example/cart"])
                assert await _urls(c) == {
                    (1, "https://x.example/"),
                    (1, "https://x.example/old"),
                    (1, "https://x.example/cart"),
                }
                await c.execute(text("DELETE FROM sessions WHERE id = 'a'"))  # cascades
                assert await _urls(c) == {(1, "https://x.example/"), (1, "https://x.example/cart")}
                await c.execute(text("DELETE FROM page_views WHERE session_id IN ('b', 'c')"))
                assert await _urls(c) == set()
                await _add_views(c, "c", ["https://x.example/a"])
                await c.execute(text("UPDATE page_views SET url = 'https://x.example/b'"))
                assert (1, "https://x.example/b") in await _urls(c)
        finally:
            await engine.dispose()


async def test_a_path_outside_the_rest_is_not_used_for_substring_search() -> None:
    """https://x.example has the path '/' but an empty rest: searching '/' must
    not find it through the path of https://x.example/ (same path, '/' in its rest)."""
    async with fresh_postgres_database() as url:
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        try:
            async with engine.begin() as c:
                await _setup(c)
                await _add_views(c, "a", ["https://x.example"])
                await _add_views(c, "b", ["https://x.example/"])
                await _add_views(c, "c", ["https://x.example/shop/", "https://x.example"])
                flags = await c.execute(text("SELECT url, path_in_rest FROM page_urls"))
                assert dict((str(u), bool(f)) for u, f in flags) == {
                    "https://x.example": False,
                    "https://x.example/": True,
                    "https://x.example/shop/": True,
                }
            factory = make_session_factory(engine)
            for term, want in (("/", ["b", "c"]), ("shop/", ["c"]), ("x.example", [])):
                query = SessionQuery(url=term, limit=10)
                async with factory() as db:
                    page = await search_sessions(db, 1, query, 0, probe_rows=0)
                assert sorted(s.id for s in page.sessions) == want, term
        finally:
            await engine.dispose()
