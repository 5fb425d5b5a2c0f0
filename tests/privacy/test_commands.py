"""`replay-server retention [--dry-run]` and `replay-server delete-visitor`,
as subprocesses on the data dir of an app that holds recorded sessions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

from sqlalchemy import func, select

from replay_server import keys
from replay_server.db.engine import SessionFactory
from replay_server.db.models import RecordedSession
from replay_server.privacy.retention import DAY_MS
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.conftest import AddSession, Tenant
from tests.privacy.test_retention import add_recorded, blob_files


def cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPLAY_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "replay_server", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def count(db: SessionFactory) -> int:
    async with db() as s:
        return int(await s.scalar(select(func.count()).select_from(RecordedSession)) or 0)


async def test_retention_and_delete_visitor_commands(
    client: Client, db: SessionFactory, add_session: AddSession, tenant: Tenant, settings: Any
) -> None:
    blobs: BlobStore = client.app[keys.BLOBS]
    old = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=45)
    visitor = str(uuid.uuid4())
    kept = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=2, visitor=visitor)
    other = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=2)
    assert now_ms() - 45 * DAY_MS > 0

    dry = await asyncio.to_thread(cli, settings, "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 sessions (2 chunks, 2 page views" in dry.stdout
    assert await count(db) == 3 and blob_files(settings.data_dir, tenant.site_id, old)

    real = await asyncio.to_thread(cli, settings, "retention")
    assert real.returncode == 0, real.stderr
    assert "deleted 1 sessions (2 chunks, 2 blobs, 2 page views" in real.stdout
    assert f"site {tenant.site_id}: 1 sessions" in real.stdout
    assert await count(db) == 2 and blob_files(settings.data_dir, tenant.site_id, old) == []

    again = await asyncio.to_thread(cli, settings, "retention")
    assert "no session is past" in again.stdout

    gone = await asyncio.to_thread(cli, settings, "delete-visitor", str(tenant.site_id), visitor)
    assert gone.returncode == 0, gone.stderr
    assert "deleted 1 sessions (2 chunks, 2 blobs" in gone.stdout
    assert blob_files(settings.data_dir, tenant.site_id, kept) == []
    assert len(blob_files(settings.data_dir, tenant.site_id, other)) == 2
    assert await count(db) == 1

    bad = await asyncio.to_thread(cli, settings, "delete-visitor", "999", visitor)
    assert bad.returncode == 1 and "no site with id 999" in bad.stderr
    junk = await asyncio.to_thread(cli, settings, "delete-visitor", "1", "not-a-uuid")
    assert junk.returncode == 2
