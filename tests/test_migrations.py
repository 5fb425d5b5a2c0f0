from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection

from replay_server.db.engine import make_engine
from replay_server.db.migrate import upgrade
from replay_server.db.models import Base
from tests.conftest import fresh_postgres_database


def test_upgrade_empty_database_matches_models(tmp_path: Path) -> None:
    db_file = tmp_path / "replay.db"
    upgrade(f"sqlite+aiosqlite:///{db_file}")
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert set(Base.metadata.tables) | {"alembic_version"} == tables
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
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


def _compare(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    upgrade(url)
    upgrade(url)  # a second `serve` start on the same database
