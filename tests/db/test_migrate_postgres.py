"""Migrations on PostgreSQL beyond the empty database (tests/db/test_migrate.py):
a database holding data of the previous revision upgrades to head and the
ingest path keeps working on it; nodes starting at once migrate only once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from replay_server.chunks.cut import build_chunks
from replay_server.db.engine import make_engine, make_session_factory
from replay_server.db.migrate import alembic_config, upgrade
from replay_server.db.models import Chunk, RecordedSession
from replay_server.ingest.catalog import Catalog
from replay_server.spool.records import SpoolEntry
from tests.conftest import fresh_postgres_database
from tests.db.test_migrate import _compare
from tests.rrweb_events import mouse_move, now_ms

pytestmark = pytest.mark.postgres

# Rows as revision 0001 defines them; later revisions keep these columns.
SEED = [
    "INSERT INTO organisations (id, name, created_ms) VALUES (1, 'o', 0)",
    "INSERT INTO sites (id, org_id, name, public_key, allowed_origins, settings, created_ms)"
    " VALUES (1, 1, 's', 'pk_seed', '[\"https://a.example\"]', '{}', 0)",
    "INSERT INTO sessions (id, site_id, visitor_id, started_ms, last_seen_ms, duration_ms,"
    " page_count, chunked_seq, chunk_count, event_count, raw_bytes, stored_bytes, entry_url,"
    " referrer, user_agent, browser, os, device, lang, tz) VALUES ('s1', 1, 'v1', 1000, 2000,"
    " 500, 1, 4, 1, 10, 900, 300, 'https://a.example/', '', 'ua', 'Chrome 120', 'Windows',"
    " 'desktop', 'en', 'UTC')",
    "INSERT INTO page_views (session_id, page, site_id, url, title, started_ms)"
    " VALUES ('s1', 0, 1, 'https://a.example/', 'Home', 1000)",
    "INSERT INTO chunks (session_id, idx, page, blob_key, format_version, first_seq, last_seq,"
    " first_ts, last_ts, event_count, raw_bytes, stored_bytes, has_full_snapshot, created_ms)"
    " VALUES ('s1', 0, 0, 's/1/s1/000000.rsc', 1, 0, 4, 1000, 1500, 10, 900, 300, true, 2000)",
]


def previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    head = script.get_revision("head")
    assert head is not None
    down = head.down_revision
    # A single-revision history: "previous" is that revision with data in it.
    return str(down) if isinstance(down, str) else head.revision


async def test_upgrade_from_the_previous_revision_keeps_data_and_ingest_works() -> None:
    async with fresh_postgres_database() as url:
        await asyncio.to_thread(upgrade, url, previous_revision())
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                for statement in SEED:
                    await connection.execute(text(statement))
            await asyncio.to_thread(upgrade, url)
            async with engine.connect() as connection:
                assert await connection.run_sync(_compare) == []
            db = make_session_factory(engine)
            # The old chunk's range is respected and the new chunk gets the next index.
            t = now_ms()
            batches = [SpoolEntry(1, "s1", seq, 0, [mouse_move(t + seq)]) for seq in (4, 5, 6)]
            catalog = Catalog(db)
            assert await catalog.chunks.stored_ranges("s1") == [(0, 0, 4)]
            assert await catalog.chunks.record_chunks("s1", build_chunks(batches[1:]), t)
            async with db() as s:
                chunks = list(await s.scalars(select(Chunk).order_by(Chunk.idx)))
                session = await s.get(RecordedSession, "s1")
            assert [(c.idx, c.first_seq, c.last_seq) for c in chunks] == [(0, 0, 4), (1, 5, 6)]
            assert session is not None and session.chunked_seq == 6 and session.chunk_count == 2
            assert session.entry_url == "https://a.example/" and session.visitor_id == "v1"
        finally:
            await engine.dispose()


async def test_nodes_starting_together_migrate_once(tmp_path: Path) -> None:
    """`serve` migrates at start, and several node processes may do it at the same
    moment: one migrates under an advisory lock, the others then find nothing to do."""
    async with fresh_postgres_database() as url:
        env = {**os.environ, "REPLAY_DATABASE_URL": url, "REPLAY_DATA_DIR": str(tmp_path)}
        command = [sys.executable, "-m", "replay_server", "db", "upgrade"]
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(3)
        ]
        outputs = await asyncio.to_thread(
            lambda: [p.communicate(timeout=120)[0] for p in processes]
        )
        assert [p.returncode for p in processes] == [0, 0, 0], outputs
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(_compare) == []
                versions = (await connection.execute(text("SELECT * FROM alembic_version"))).all()
            assert len(versions) == 1
        finally:
            await engine.dispose()
