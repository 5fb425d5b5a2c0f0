"""Members of an organisation (accounts/members.py) on a real database: who
may list and remove whom, the last owner stays, and an account that is an
organisation's only owner cannot be deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from replay_server.accounts.members import (
    delete_account,
    list_members,
    remove_member,
    sole_owner_of,
)
from replay_server.accounts.orgs import AccountError, create_user, set_membership
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Membership, User
from replay_server.db.principal import Principal, load_principal
from replay_server.errors import Forbidden, NotFound
from tests.conftest import Tenant


async def principal_of(db: SessionFactory, user_id: int) -> Principal:
    async with db() as s:
        user = await s.get(User, user_id)
        assert user is not None
        return await load_principal(s, user)


async def add(db: SessionFactory, tenant: Tenant, name: str, role: str) -> int:
    async with db() as s, s.begin():
        user = await create_user(
            s, f"{name}@example.com", f"password-of-{name}", org_id=tenant.org_id, role=role
        )
    return user.id


async def test_admins_list_members_and_viewers_may_not(db: SessionFactory, tenant: Tenant) -> None:
    admin = await add(db, tenant, "bob", "admin")
    viewer = await add(db, tenant, "carol", "viewer")
    async with db() as s:
        members = await list_members(s, await principal_of(db, admin), tenant.org_id)
        assert [(m.email, m.role) for m in members] == [
            ("alice@example.com", "owner"),
            ("bob@example.com", "admin"),
            ("carol@example.com", "viewer"),
        ]
        with pytest.raises(Forbidden):
            await list_members(s, await principal_of(db, viewer), tenant.org_id)


async def test_who_may_remove_whom(db: SessionFactory, tenant: Tenant) -> None:
    admin = await add(db, tenant, "bob", "admin")
    viewer = await add(db, tenant, "carol", "viewer")
    by_admin = await principal_of(db, admin)
    async with db() as s, s.begin():
        with pytest.raises(Forbidden) as refused:
            await remove_member(s, by_admin, tenant.org_id, tenant.user_id)  # the owner
        assert refused.value.code == "insufficient_role"
        removed = await remove_member(s, by_admin, tenant.org_id, viewer)
        assert (removed.email, removed.role) == ("carol@example.com", "viewer")
        with pytest.raises(NotFound):
            await remove_member(s, by_admin, tenant.org_id, viewer)  # gone already
    async with db() as s:
        assert await s.get(Membership, (viewer, tenant.org_id)) is None
        assert await s.get(User, viewer) is not None  # the account itself stays


async def test_the_last_owner_stays(db: SessionFactory, tenant: Tenant) -> None:
    owner = await principal_of(db, tenant.user_id)
    async with db() as s, s.begin():
        with pytest.raises(AccountError, match="at least one owner"):
            await remove_member(s, owner, tenant.org_id, tenant.user_id)
    async with db() as s:
        assert await s.get(Membership, (tenant.user_id, tenant.org_id)) is not None


async def test_a_sole_owner_cannot_delete_their_account(db: SessionFactory, tenant: Tenant) -> None:
    bob = await add(db, tenant, "bob", "admin")
    async with db() as s, s.begin():
        assert await sole_owner_of(s, tenant.user_id) == [tenant.org_name]
        with pytest.raises(AccountError, match="only owner"):
            await delete_account(s, tenant.user_id)
    async with db() as s, s.begin():
        await set_membership(s, bob, tenant.org_id, "owner")
        assert await sole_owner_of(s, tenant.user_id) == []
        await delete_account(s, tenant.user_id)
    async with db() as s:
        assert await s.get(User, tenant.user_id) is None
        left = list(await s.scalars(select(Membership.user_id)))
    assert left == [bob]
