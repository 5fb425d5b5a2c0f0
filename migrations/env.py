"""Alembic environment: runs migrations over the async engine the app uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from replay_server.db.engine import make_engine
from replay_server.db.models import Base
from replay_server.db.search_ddl import is_search_object

target_metadata = Base.metadata
MIGRATION_LOCK = 0x5245504C  # "REPL": the advisory lock key of `db upgrade`


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several nodes starting at once: one migrates, the others wait for it
            # here (the lock lasts until the transaction ends), then find it done.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def _include_name(name: str | None, type_: str, _parents: object) -> bool:
    # The search index objects of 0002 have no model (db/search_ddl.py).
    return not is_search_object(name)


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async(context.config.get_main_option("sqlalchemy.url") or ""))


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported; run `replay-server db upgrade`"
    )
run_migrations_online()
