"""Erasing sessions (privacy/erasure.py) on a real database and blob
directory: blobs, chunk rows, page views and the session row go, counted; a
session not named keeps all of its own; `measure` counts without deleting."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, PageView, RecordedSession
from replay_server.privacy.erasure import Erased, SessionRef, erase_sessions, measure
from replay_server.storage.local import LocalBlobStore
from tests.chunks.test_reader import stored_session
from tests.conftest import BOTH_DATABASES, AddSession, Tenant

pytestmark = BOTH_DATABASES


def blob_files(root: Path, sid: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and sid in p.parts]


async def test_erasing_removes_everything_of_the_named_sessions_only(
    db: SessionFactory, tenant: Tenant, add_session: AddSession, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    gone, _ = await stored_session(db, blobs, tenant, add_session)
    kept, _ = await stored_session(db, blobs, tenant, add_session)
    async with db() as s:
        before = await measure(s, [gone])
        stored = await s.scalar(
            select(func.sum(Chunk.stored_bytes)).where(Chunk.session_id == gone)
        )
    assert (before.sessions, before.chunks, before.page_views) == (1, 3, 2)
    assert before.stored_bytes == stored and before.blobs == 0
    assert len(blob_files(tmp_path / "blobs", gone)) == 3

    erased = await erase_sessions(db, blobs, [SessionRef(gone, tenant.site_id)])
    assert erased.as_json() == {**before.as_json(), "blobs": 3}
    assert blob_files(tmp_path / "blobs", gone) == []
    assert len(blob_files(tmp_path / "blobs", kept)) == 3
    async with db() as s:
        assert await measure(s, [gone]) == Erased()
        assert (await measure(s, [kept])).chunks == 3
        assert await s.get(RecordedSession, gone) is None
        assert await s.scalar(select(func.count()).where(PageView.session_id == gone)) == 0


async def test_erasing_nothing_is_nothing(db: SessionFactory, tmp_path: Path) -> None:
    assert await erase_sessions(db, LocalBlobStore(tmp_path / "blobs"), []) == Erased()
    async with db() as s:
        assert await measure(s, []) == Erased()
