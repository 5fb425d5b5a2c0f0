"""The one builder of the stores from Settings, used by the app and the CLI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from replay_server.privacy.commands import open_stores
from replay_server.settings import Settings
from replay_server.storage.local import LocalBlobStore
from replay_server.storage.s3 import S3BlobStore
from replay_server.stores import open_database


async def test_the_cli_honours_s3_max_connections(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, storage_url="s3://bucket/p", s3_max_connections=3)
    async with open_stores(settings) as (_db, blobs):
        assert isinstance(blobs, S3BlobStore)
        assert blobs._max_workers == 3


async def test_default_stores_live_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with open_stores(settings) as (db, blobs):
        assert isinstance(blobs, LocalBlobStore)
        async with db() as session:
            assert await session.scalar(text("select 1")) == 1
    assert any(p.suffix in (".db", ".sqlite", ".sqlite3") for p in tmp_path.rglob("*"))


async def test_the_pool_settings_reach_the_engine(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        db_pool_size=3,
        db_max_overflow=4,
    )
    async with open_database(settings) as db:
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert db.engine.pool._max_overflow == 4  # type: ignore[attr-defined]
