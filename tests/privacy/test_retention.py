"""Retention sweeps (retention.py, erasure.py, the CLI): every blob and row of
the sessions concerned goes, nothing else does. Deletion on request and export:
tests/api/test_privacy.py."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from replay_server import keys
from replay_server.chunks.cut import blob_key
from replay_server.chunks.format import FORMAT_VERSION, encode_chunk
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Base, Chunk, Site
from replay_server.privacy.commands import retention_summary
from replay_server.privacy.erasure import session_prefix
from replay_server.privacy.retention import DAY_MS, retention_days, sweep
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.conftest import AddSession, Tenant
from tests.rrweb_events import page_events

NOW = now_ms()


async def add_recorded(
    db: SessionFactory,
    blobs: BlobStore,
    add_session: AddSession,
    site_id: int,
    *,
    age_days: float,
    visitor: str | None = None,
) -> str:
    """A session last heard from `age_days` ago, with two chunks stored as blobs."""
    last_seen = NOW - int(age_days * DAY_MS)
    sid = await add_session(
        site_id,
        ["https://shop.example/", "https://shop.example/cart"],
        started_ms=last_seen - 2000,
        last_seen_ms=last_seen,
        visitor_id=visitor or str(uuid.uuid4()),
    )
    async with db() as s, s.begin():
        for idx in range(2):
            events = page_events(last_seen - 2000 + idx, items=2)
            data, raw = encode_chunk(events)
            key = blob_key(site_id, sid, idx, idx)
            await blobs.put(key, data)
            s.add(
                Chunk(
                    session_id=sid,
                    idx=idx,
                    page=idx,
                    blob_key=key,
                    format_version=FORMAT_VERSION,
                    first_seq=idx,
                    last_seq=idx,
                    first_ts=events[0]["timestamp"],
                    last_ts=events[-1]["timestamp"],
                    event_count=len(events),
                    raw_bytes=raw,
                    stored_bytes=len(data),
                    has_full_snapshot=True,
                    created_ms=last_seen,
                )
            )
    return sid


async def rows_of(db: SessionFactory, sid: str) -> dict[str, int]:
    """Rows that mention the session, in every table with a session id column."""
    found: dict[str, int] = {}
    async with db() as s:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("session_id") if table.name != "sessions" else table.c.id
            if column is None:
                continue
            count = len((await s.execute(select(column).where(column == sid))).all())
            if count:
                found[table.name] = count
    return found


def blob_files(data_dir: Path, site_id: int, sid: str) -> list[Path]:
    root = data_dir / "blobs" / session_prefix(site_id, sid)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def blobs(client: Client) -> BlobStore:
    store: BlobStore = client.app[keys.BLOBS]
    return store


def test_retention_days_setting() -> None:
    assert retention_days({}) == 30
    assert retention_days({"retention_days": 7}) == 7
    for bad in (0, -1, 4000, "7", True, None, 7.5):
        assert retention_days({"retention_days": bad}) == 30


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sweep_removes_expired_sessions_and_keeps_the_rest(
    db: SessionFactory,
    blobs: BlobStore,
    add_session: AddSession,
    tenant: Tenant,
    other_tenant: Tenant,
    settings: Any,
) -> None:
    async with db() as s, s.begin():
        await s.execute(
            update(Site)
            .where(Site.id == other_tenant.site_id)
            .values(settings={"retention_days": 7})
        )
    a_old = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=40)
    a_new = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=10)
    b_old = await add_recorded(db, blobs, add_session, other_tenant.site_id, age_days=8)
    b_new = await add_recorded(db, blobs, add_session, other_tenant.site_id, age_days=1)
    data_dir = settings.data_dir

    dry = await sweep(db, blobs, NOW, dry_run=True)
    assert dry.total.sessions == 2 and dry.total.chunks == 4 and dry.total.page_views == 4
    assert "would delete 2 sessions" in retention_summary(dry)
    assert await rows_of(db, a_old) and blob_files(data_dir, tenant.site_id, a_old)

    seen: list[int] = []
    report = await sweep(db, blobs, NOW, progress=seen.append, batch_size=1)
    assert sum(seen) == 2
    assert report.total.sessions == 2 and report.total.blobs == 4
    assert set(report.by_site) == {tenant.site_id, other_tenant.site_id}
    for site_id, sid in ((tenant.site_id, a_old), (other_tenant.site_id, b_old)):
        assert await rows_of(db, sid) == {}
        assert blob_files(data_dir, site_id, sid) == []
    for site_id, sid in ((tenant.site_id, a_new), (other_tenant.site_id, b_new)):
        assert await rows_of(db, sid) == {"chunks": 2, "page_views": 2, "sessions": 1}
        assert len(blob_files(data_dir, site_id, sid)) == 2

    # the clock moves forward 25 days: the rest expires too
    later = await sweep(db, blobs, NOW + 25 * DAY_MS)
    assert later.total.sessions == 2
    for site_id, sid in ((tenant.site_id, a_new), (other_tenant.site_id, b_new)):
        assert await rows_of(db, sid) == {} and blob_files(data_dir, site_id, sid) == []
    assert [p for p in (data_dir / "blobs").rglob("*") if p.is_file()] == []
