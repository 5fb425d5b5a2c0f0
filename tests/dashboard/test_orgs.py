"""The members page (dashboard/orgs.py): admins see the members, remove one
(with a flash), and cannot remove the last owner; viewers and other
organisations get no page; an invitation with a bad address comes back 400."""

from __future__ import annotations

from replay_server.accounts.orgs import create_user
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Membership
from tests.browser import Client, login
from tests.conftest import MakeTenant, Tenant
from tests.dashboard.test_invitations import invite, role_of


async def test_an_admin_sees_the_members_and_removes_one(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s, s.begin():
        carol = await create_user(
            s, "carol@example.com", "password-of-carol", org_id=tenant.org_id, role="viewer"
        )
    csrf = await login(client, tenant.email, tenant.password)
    page = await client.get(f"/orgs/{tenant.org_id}/members")
    text = await page.text()
    assert page.status == 200 and "alice@example.com" in text and "carol@example.com" in text
    removed = await client.post(
        f"/orgs/{tenant.org_id}/members/{carol.id}/remove", data={"csrf_token": csrf}
    )
    assert removed.status == 200 and "Member removed." in await removed.text()
    assert "carol@example.com" not in await removed.text()
    assert await role_of(db, "carol@example.com", tenant.org_id) is None


async def test_the_last_owner_cannot_be_removed(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    refused = await client.post(
        f"/orgs/{tenant.org_id}/members/{tenant.user_id}/remove", data={"csrf_token": csrf}
    )
    assert refused.status == 400 and "at least one owner" in await refused.text()
    async with db() as s:
        assert await s.get(Membership, (tenant.user_id, tenant.org_id)) is not None


async def test_viewers_and_strangers_get_no_members_page(
    client: Client, make_tenant: MakeTenant, tenant: Tenant
) -> None:
    viewer = await make_tenant("victor", role="viewer")
    for who, org_id in ((viewer, viewer.org_id), (tenant, viewer.org_id)):
        page = await client.get(f"/orgs/{org_id}/members", headers=who.headers)
        assert page.status in (403, 404), (who.email, page.status)


async def test_a_bad_invitation_comes_back_with_its_message(client: Client, tenant: Tenant) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    response = await client.post(
        f"/orgs/{tenant.org_id}/members",
        data={"email": "not an address", "role": "viewer", "csrf_token": csrf},
    )
    text = await response.text()
    assert response.status == 400 and "invalid email address" in text
    assert 'id="invitation-link"' not in text
    _, link = await invite(client, tenant.org_id, "dora@example.com", "viewer", csrf)
    assert link.startswith("/invitations/ri_")
