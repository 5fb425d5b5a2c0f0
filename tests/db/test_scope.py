"""What a principal may see (db/scope.py), queried directly: only their
organisations' sites, sessions, page views and chunks; another organisation's
objects are NotFound like missing ones; roles are checked where asked."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from replay_server.db import scope
from replay_server.db.engine import SessionFactory
from replay_server.db.models import User
from replay_server.db.principal import Principal, load_principal
from replay_server.errors import Forbidden, NotFound
from replay_server.storage.local import LocalBlobStore
from tests.chunks.test_reader import stored_session
from tests.conftest import AddSession, MakeTenant, Tenant


async def principal_of(db: SessionFactory, tenant: Tenant) -> Principal:
    async with db() as s:
        user = await s.get(User, tenant.user_id)
        assert user is not None
        return await load_principal(s, user)


async def test_sites_and_organisations_are_the_principals_only(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant, add_session: AddSession
) -> None:
    await add_session(tenant.site_id, ["https://alice.example/"])
    alice = await principal_of(db, tenant)
    async with db() as s:
        sites = await scope.list_sites(s, alice)
        orgs = await scope.list_organisations(s, alice)
        assert [(w.site.id, w.session_count) for w in sites] == [(tenant.site_id, 1)]
        assert [(o.id, o.role) for o in orgs] == [(tenant.org_id, "owner")]
        assert (await scope.get_site(s, alice, tenant.site_id, role="owner")).id == tenant.site_id
        with pytest.raises(NotFound):
            await scope.get_site(s, alice, other_tenant.site_id)
        with pytest.raises(NotFound):
            await scope.get_organisation(s, alice, other_tenant.org_id)


async def test_sessions_page_views_and_chunks_of_others_are_not_found(
    db: SessionFactory,
    tenant: Tenant,
    other_tenant: Tenant,
    add_session: AddSession,
    tmp_path: Path,
) -> None:
    sid, _ = await stored_session(db, LocalBlobStore(tmp_path), tenant, add_session)
    alice, bob = await principal_of(db, tenant), await principal_of(db, other_tenant)
    async with db() as s:
        assert (await scope.get_session(s, alice, sid)).id == sid
        assert [v.page for v in await scope.list_page_views(s, alice, sid)] == [0, 1]
        summary = await scope.chunk_summary(s, alice, sid)
        assert summary.count == 3 and summary.stored_bytes > 0
        assert len(await scope.list_chunks(s, alice, sid)) == 3
        for missing in (sid, str(uuid.uuid4()), "a\x00b"):
            with pytest.raises(NotFound):
                await scope.get_session(s, bob, missing)
        assert await scope.list_page_views(s, bob, sid) == []
        assert (await scope.chunk_summary(s, bob, sid)).count == 0
        assert await scope.list_chunks(s, bob, sid) == []


async def test_roles_are_checked_where_asked(
    db: SessionFactory, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    viewer = await make_tenant("victor", role="viewer")
    sid = await add_session(viewer.site_id, ["https://victor.example/"])
    principal = await principal_of(db, viewer)
    async with db() as s:
        assert (await scope.get_session(s, principal, sid)).id == sid
        with pytest.raises(Forbidden):
            await scope.get_session(s, principal, sid, role="admin")
        with pytest.raises(Forbidden):
            await scope.get_site(s, principal, viewer.site_id, role="admin")
