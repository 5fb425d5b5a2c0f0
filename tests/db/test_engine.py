"""The engine (db/engine.py): SQLite's file and missing directories are made
private, its connections get WAL, foreign keys and a busy timeout; PostgreSQL
gets the pool it is asked for."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from replay_server.db.engine import ensure_sqlite_dir, make_engine, make_session_factory
from tests.services import service_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_new_directories_are_private(tmp_path: Path) -> None:
    database = tmp_path / "a" / "b" / "replay.db"
    ensure_sqlite_dir(f"sqlite+aiosqlite:///{database}")
    assert mode(database) == 0o600
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    database.chmod(0o640)
    ensure_sqlite_dir(f"sqlite+aiosqlite:///{database}")
    assert mode(database) == 0o640  # an existing file keeps its mode
    ensure_sqlite_dir("sqlite+aiosqlite:///:memory:")  # nothing to make


async def test_sqlite_connections_get_their_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'replay.db'}")
    try:
        async with make_session_factory(engine)() as s:
            pragmas = [
                (await s.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, 30000, 1]  # synchronous NORMAL is 1


@pytest.mark.postgres
async def test_postgres_gets_the_pool_it_asks_for() -> None:
    url = service_url("REPLAY_TEST_POSTGRES_URL").replace("postgresql://", "postgresql+asyncpg://")
    engine = make_engine(url, pool_size=3, max_overflow=2)
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 2)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
