from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection

from replay_server.db.engine import make_engine
from replay_server.db.migrate import upgrade
from replay_server.db.models import Base
from replay_server.db.search_ddl import fts_rowid_sql, is_search_object, url_rest_sql
from tests.conftest import fresh_postgres_database


def test_upgrade_empty_database_matches_models(tmp_path: Path) -> None:
    db_file = tmp_path / "replay.db"
    upgrade(f"sqlite+aiosqlite:///{db_file}")
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            # The FTS5 table and its shadow tables have no model (db/search_ddl.py).
            assert {t for t in tables if is_search_object(t)} >= {"page_views_fts"}
            tables = {t for t in tables if not is_search_object(t)}
            assert set(Base.metadata.tables) | {"alembic_version"} == tables
            assert compare_metadata(_context(connection), Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_upgrade_postgres_matches_models() -> None:
    async with fresh_postgres_database() as url:
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                diff = await connection.run_sync(_compare)
        finally:
            await engine.dispose()
    assert diff == []


def _context(connection: Connection) -> MigrationContext:
    # Objects without a model (the search indexes of 0002) are left out of the comparison.
    return MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, _type, _parents: not is_search_object(name),
        },
    )


def _compare(connection: Connection) -> list[Any]:
    return list(compare_metadata(_context(connection), Base.metadata))


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    upgrade(url)
    upgrade(url)  # a second `serve` start on the same database


@pytest.mark.postgres
async def test_search_migration_upgrades_a_postgres_database_with_data() -> None:
    """0001 with sessions and page views in it -> 0002: rows kept and backfilled,
    the trigram index in place and used by the search's own expression."""
    async with fresh_postgres_database() as url:
        await asyncio.to_thread(upgrade, url, "0001")
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO organisations (id, name, created_ms) VALUES (1, 'o', 0)")
                )
                await connection.execute(
                    text(
                        "INSERT INTO sites (id, org_id, name, public_key, allowed_origins, "
                        "settings, created_ms) VALUES (1, 1, 's', 'pk_x', '[]', '{}', 0)"
                    )
                )
                await connection.execute(
                    text(
                        "INSERT INTO sessions (id, site_id, visitor_id, started_ms, last_seen_ms,"
                        " duration_ms, page_count, chunked_seq, chunk_count, event_count,"
                        " raw_bytes, stored_bytes, entry_url, referrer, user_agent, browser, os,"
                        " device, lang, tz) VALUES ('s1', 1, 'v1', 1000, 2000, 500, 2, -1, 0, 0,"
                        " 0, 0, 'https://a.example/', 'https://www.Google.com/q', 'ua',"
                        " 'Chrome 120', 'Windows', 'desktop', 'en', 'UTC')"
                    )
                )
                await connection.execute(
                    text(
                        "INSERT INTO page_views (session_id, page, site_id, url, title, started_ms)"
                        " VALUES ('s1', 0, 1, 'https://a.example/', '', 1000),"
                        " ('s1', 1, 1, 'https://a.example/shop/checkout?x=1', '', 1500)"
                    )
                )
            await asyncio.to_thread(upgrade, url)
            async with engine.connect() as connection:
                row = (
                    await connection.execute(
                        text(
                            "SELECT browser, browser_version, referrer_domain, exit_url,"
                            " click_count, country FROM sessions WHERE id = 's1'"
                        )
                    )
                ).one()
                paths = (
                    await connection.execute(text("SELECT path FROM page_views ORDER BY page"))
                ).scalars()
                indexes = (
                    await connection.execute(
                        text("SELECT indexname FROM pg_indexes WHERE tablename = 'page_views'")
                    )
                ).scalars()
                assert tuple(row) == (
                    "Chrome",
                    "120",
                    "google.com",
                    "https://a.example/shop/checkout?x=1",
                    0,
                    "",
                )
                assert list(paths) == ["/", "/shop/checkout"]
                index_names = set(indexes)
                assert "ix_page_views_url_trgm" in index_names
                await connection.execute(text("SET enable_seqscan = off"))
                plan = "\n".join(
                    (
                        await connection.execute(
                            text(
                                "EXPLAIN SELECT session_id FROM page_views"
                                f" WHERE {url_rest_sql('postgresql')} ILIKE '%checkout%'"
                            )
                        )
                    ).scalars()
                )
                assert "ix_page_views_url_trgm" in plan, (plan, index_names)
                diff = await connection.run_sync(_compare)
        finally:
            await engine.dispose()
    assert diff == []


def test_sqlite_fts_follows_inserts_updates_and_deletes(tmp_path: Path) -> None:
    db_file = tmp_path / "replay.db"
    upgrade(f"sqlite+aiosqlite:///{db_file}")
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.begin() as c:
            c.execute(text("PRAGMA foreign_keys=ON"))
            c.execute(text("INSERT INTO organisations (id, name, created_ms) VALUES (1, 'o', 0)"))
            c.execute(
                text(
                    "INSERT INTO sites (id, org_id, name, public_key, allowed_origins, settings,"
                    " created_ms) VALUES (1, 1, 's', 'pk', '[]', '{}', 0)"
                )
            )
            for sid in ("a", "b"):
                c.execute(
                    text(
                        "INSERT INTO sessions (id, site_id, visitor_id, started_ms, last_seen_ms,"
                        " duration_ms, page_count, chunked_seq, chunk_count, event_count,"
                        " raw_bytes, stored_bytes, entry_url, referrer, user_agent, browser, os,"
                        " device, lang, tz) VALUES (:id, 1, 'v', 0, 0, 0, 1, -1, 0, 0, 0, 0, '',"
                        " '', '', '', '', '', '', '')"
                    ),
                    {"id": sid},
                )
                c.execute(
                    text(
                        "INSERT INTO page_views (session_id, page, site_id, url, title,"
                        " started_ms) VALUES (:id, 0, 1, :url, '', 0)"
                    ),
                    {"id": sid, "url": f"https://x.example/{sid}/checkout"},
                )

        def hits(c: Connection, term: str) -> set[str]:
            rows = c.execute(
                text(
                    f"SELECT session_id FROM page_views WHERE {fts_rowid_sql()} IN"
                    " (SELECT rowid FROM page_views_fts WHERE page_views_fts MATCH :q)"
                ),
                {"q": f'"{term}"'},
            )
            return set(rows.scalars())

        with engine.begin() as c:
            c.execute(text("PRAGMA foreign_keys=ON"))
            assert hits(c, "CHECKOUT") == {"a", "b"}
            c.execute(
                text("UPDATE page_views SET url = 'https://x.example/cart' WHERE session_id = 'a'")
            )
            assert hits(c, "checkout") == {"b"} and hits(c, "cart") == {"a"}
            c.execute(text("DELETE FROM sessions WHERE id = 'b'"))  # cascades to page_views
            assert hits(c, "checkout") == set()
            c.execute(text("INSERT INTO page_views_fts(page_views_fts) VALUES ('integrity-check')"))
    finally:
        engine.dispose()
