"""Deletion on request and export (api/privacy.py): a visitor's sessions on one
site, or one session, go entirely (rows and blobs), nothing else does; the
roles and organisations the API checks; the export document."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from replay_server import keys
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Membership, RecordedSession
from replay_server.storage.base import BlobStore
from tests.browser import Client
from tests.conftest import AddSession, MakeTenant, Tenant
from tests.privacy.test_retention import add_recorded, blob_files, rows_of
from tests.rrweb_events import page_events


@pytest.fixture
def blobs(client: Client) -> BlobStore:
    store: BlobStore = client.app[keys.BLOBS]
    return store


async def test_visitor_deletion_removes_that_visitor_only(
    client: Client,
    db: SessionFactory,
    blobs: BlobStore,
    add_session: AddSession,
    make_tenant: MakeTenant,
    settings: Any,
) -> None:
    owner = await make_tenant("carol")
    stranger = await make_tenant("dave")
    visitor, other_visitor = str(uuid.uuid4()), str(uuid.uuid4())
    mine = [
        await add_recorded(db, blobs, add_session, owner.site_id, age_days=1, visitor=visitor)
        for _ in range(3)
    ]
    theirs = await add_recorded(
        db, blobs, add_session, owner.site_id, age_days=1, visitor=other_visitor
    )
    # the same id on another client's site is another visitor, and is untouched
    elsewhere = await add_recorded(
        db, blobs, add_session, stranger.site_id, age_days=1, visitor=visitor
    )
    path = f"/api/v1/sites/{owner.site_id}/visitors/{visitor}"

    assert (await client.delete(path, headers=stranger.headers)).status == 404
    bad = await client.delete(f"/api/v1/sites/{owner.site_id}/visitors/x'--", headers=owner.headers)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_parameter"
    async with db() as s, s.begin():  # a viewer may watch, not delete
        await s.execute(
            update(Membership).where(Membership.user_id == owner.user_id).values(role="viewer")
        )
    assert (await client.delete(path, headers=owner.headers)).status == 403
    async with db() as s, s.begin():
        await s.execute(
            update(Membership).where(Membership.user_id == owner.user_id).values(role="admin")
        )

    response = await client.delete(path, headers=owner.headers)
    assert response.status == 200
    body = await response.json()
    assert body["deleted"]["sessions"] == 3 and body["deleted"]["blobs"] == 6
    for sid in mine:
        assert await rows_of(db, sid) == {}
        assert blob_files(settings.data_dir, owner.site_id, sid) == []
    assert await rows_of(db, theirs) == {"chunks": 2, "page_views": 2, "sessions": 1}
    assert await rows_of(db, elsewhere) == {"chunks": 2, "page_views": 2, "sessions": 1}
    assert len(blob_files(settings.data_dir, stranger.site_id, elsewhere)) == 2


async def test_delete_and_export_one_session(
    client: Client,
    db: SessionFactory,
    blobs: BlobStore,
    add_session: AddSession,
    tenant: Tenant,
    other_tenant: Tenant,
    settings: Any,
) -> None:
    sid = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=1)
    keep = await add_recorded(db, blobs, add_session, tenant.site_id, age_days=1)

    assert (
        await client.get(f"/api/v1/sessions/{sid}/export", headers=other_tenant.headers)
    ).status == 404
    exported = await client.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers)
    assert exported.status == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="session-{sid}.json"'
    document = json.loads(await exported.read())
    assert document["format"] == "replay-server/session" and document["version"] == 1
    assert document["session"]["id"] == sid and len(document["session"]["pages"]) == 2
    assert len(document["events"]) == 2 * len(page_events(0, items=2))
    assert sum(e["type"] == 2 for e in document["events"]) == 2

    assert (
        await client.delete(f"/api/v1/sessions/{sid}", headers=other_tenant.headers)
    ).status == 404
    response = await client.delete(f"/api/v1/sessions/{sid}", headers=tenant.headers)
    assert response.status == 200
    assert (await response.json())["deleted"] == {
        "sessions": 1,
        "chunks": 2,
        "page_views": 2,
        "blobs": 2,
        "stored_bytes": (await response.json())["deleted"]["stored_bytes"],
    }
    assert await rows_of(db, sid) == {}
    assert blob_files(settings.data_dir, tenant.site_id, sid) == []
    assert (await client.get(f"/api/v1/sessions/{sid}", headers=tenant.headers)).status == 404
    assert (await client.delete(f"/api/v1/sessions/{sid}", headers=tenant.headers)).status == 404
    assert await rows_of(db, keep) == {"chunks": 2, "page_views": 2, "sessions": 1}
    async with db() as s:
        assert await s.get(RecordedSession, keep) is not None
