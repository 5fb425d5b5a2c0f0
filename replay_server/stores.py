"""The one place that builds the stores from Settings: the database engine and
its session factory, and the blob store, honouring every storage setting. The
app (cleanup contexts) and the CLI commands all open them here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from replay_server.db.engine import SessionFactory, make_engine, make_session_factory
from replay_server.settings import Settings
from replay_server.storage import open_blob_store
from replay_server.storage.base import BlobStore


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: SessionFactory


def database(settings: Settings) -> Database:
    """Not connected yet: the engine connects on first use; dispose it when done."""
    engine = make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    return Database(engine, make_session_factory(engine))


def blob_store(settings: Settings) -> BlobStore:
    """Close it when done."""
    return open_blob_store(
        settings.effective_storage_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_max_connections=settings.s3_max_connections,
    )


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    db = database(settings)
    try:
        yield db
    finally:
        await db.engine.dispose()


@asynccontextmanager
async def open_blobs(settings: Settings) -> AsyncIterator[BlobStore]:
    store = blob_store(settings)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[tuple[SessionFactory, BlobStore]]:
    """Both stores, for a CLI command that reads the database and deletes blobs."""
    async with open_database(settings) as db, open_blobs(settings) as blobs:
        yield db.sessions, blobs
