"""The role matrix: viewers search and watch only; admins manage their own
organisation's sites and users (not owners); nobody acts in another organisation.
Also: CSRF on every state-changing dashboard route."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from sqlalchemy import select

from replay_server.accounts import orgs as accounts
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Membership, Site
from replay_server.db.principal import Principal
from replay_server.db.roles import grantable_roles, has_role, require_role
from replay_server.errors import Forbidden, NotFound
from tests.browser import Client, csrf_from, login
from tests.conftest import AddSession, MakeTenant, Tenant
from tests.test_isolation import HOSTILE_FORM, PLACEHOLDER, fill, private_routes

# State-changing routes a viewer may use: their own login and account.
OWN_ACCOUNT = {
    "/logout",
    "/account/password",
    "/account/tokens",
    "/account/tokens/{token_id}/revoke",
}


def test_require_role_ranks_and_hides_other_orgs() -> None:
    p = Principal(user_id=1, email="a@x", memberships={1: "viewer", 2: "admin", 3: "owner"})
    require_role(p, 1, "viewer")
    with pytest.raises(Forbidden):
        require_role(p, 1, "admin")
    require_role(p, 2, "admin")
    with pytest.raises(Forbidden):
        require_role(p, 2, "owner")
    require_role(p, 3, "owner")
    with pytest.raises(NotFound):
        require_role(p, 4, "viewer")
    assert has_role(p, 3, "viewer") and not has_role(p, 4, "viewer")
    assert grantable_roles(p, 1) == () and grantable_roles(p, 2) == ("admin", "viewer")
    assert grantable_roles(p, 3) == ("owner", "admin", "viewer")


async def _member(db: SessionFactory, tenant: Tenant, name: str, role: str) -> Tenant:
    """Another user of the tenant's organisation, with `role` and an API token."""
    async with db() as s:
        user = await accounts.create_user(
            s, f"{name}@example.com", f"password-of-{name}", org_id=tenant.org_id, role=role
        )
        token, _ = await accounts.create_api_token(s, user.email)
        await s.commit()
    return Tenant(
        tenant.org_id,
        tenant.org_name,
        user.id,
        user.email,
        f"password-of-{name}",
        tenant.site_id,
        tenant.site_key,
        token,
    )


@pytest.mark.parametrize("credentials", ["token", "cookie"])
async def test_viewer_cannot_change_anything_of_the_org(
    client: Client,
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
    credentials: str,
) -> None:
    viewer = await _member(db, tenant, "vera", "viewer")
    session_id = await add_session(tenant.site_id, ["https://alice.example/"])
    ids = {
        "site_id": str(tenant.site_id),
        "session_id": session_id,
        "org_id": str(tenant.org_id),
        "user_id": str(tenant.user_id),
        "token_id": "0",
        "visitor_id": "0b9f3c2e-7a51-4e0c-9d3b-5f1a2c3d4e5f",
        "invitation_id": "0",
    }
    csrf = None
    headers = viewer.headers
    if credentials == "cookie":
        csrf = await login(client, viewer.email, viewer.password)
        headers = {"X-CSRF-Token": csrf}
    # Search and watch: allowed.
    for path in ("/", f"/sites/{tenant.site_id}/sessions", f"/sessions/{session_id}",
                 f"/api/v1/sessions/{session_id}"):  # fmt: skip
        assert (await client.get(path, headers=headers)).status == 200, path
    # Settings and members pages, and every state-changing route: 403.
    refused = [("GET", "/sites/{site_id}/settings"), ("GET", "/orgs/{org_id}/members")]
    refused += [
        (method, template)
        for method, template in private_routes(client.app)
        if method not in ("GET", "HEAD") and PLACEHOLDER.search(template)
        and template not in OWN_ACCOUNT
    ]  # fmt: skip
    assert len(refused) >= 6
    async with db() as s:
        before = [(x.name, x.public_key, dict(x.settings)) for x in (await s.scalars(select(Site)))]
    for method, template in refused:
        data = {**HOSTILE_FORM, "role": "viewer", **({"csrf_token": csrf} if csrf else {})}
        response = await client.request(
            method, fill(template, ids), headers=headers, data=data, allow_redirects=False
        )
        assert response.status == 403, f"viewer {method} {template}: {response.status}"
        assert (await response.json())["error"]["code"] == "insufficient_role"
    async with db() as s:
        after = [(x.name, x.public_key, dict(x.settings)) for x in (await s.scalars(select(Site)))]
        members = (await s.scalars(select(Membership))).all()
    assert after == before and len(members) == 2
    assert "/settings" not in await (await client.get("/", headers=headers)).text()


async def test_admin_manages_own_org_but_not_owners(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    admin = await _member(db, tenant, "adam", "admin")
    h = admin.headers
    settings_url = f"/sites/{tenant.site_id}/settings"
    assert (await client.get(settings_url, headers=h)).status == 200
    members_url = f"/orgs/{tenant.org_id}/members"
    ok = await client.post(
        members_url, headers=h, data={"email": "new@example.com", "role": "admin"}
    )
    assert ok.status == 200 and "new@example.com" in await ok.text()
    owner = await client.post(
        members_url, headers=h, data={"email": "o@example.com", "role": "owner"}
    )
    assert owner.status == 403
    # An existing owner cannot be demoted or removed by an admin.
    demote = await client.post(
        members_url, headers=h, data={"email": tenant.email, "role": "viewer"}
    )
    assert demote.status == 403
    remove = await client.post(f"{members_url}/{tenant.user_id}/remove", headers=h)
    assert remove.status == 403
    async with db() as s:
        role = await s.scalar(select(Membership.role).where(Membership.user_id == tenant.user_id))
    assert role == "owner"


async def test_admin_cannot_act_in_another_org(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    admin = await _member(db, alice, "adam", "admin")
    for method, path in (
        ("GET", f"/sites/{bob.site_id}/settings"),
        ("POST", f"/sites/{bob.site_id}/settings"),
        ("POST", f"/sites/{bob.site_id}/rotate-key"),
        ("GET", f"/orgs/{bob.org_id}/members"),
        ("POST", f"/orgs/{bob.org_id}/members"),
        ("POST", f"/orgs/{bob.org_id}/members/{bob.user_id}/remove"),
    ):
        response = await client.request(method, path, headers=admin.headers, data=HOSTILE_FORM)
        assert response.status == 404, f"{method} {path}"


async def test_owner_can_grant_owner_but_not_remove_the_last_owner(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    members_url = f"/orgs/{tenant.org_id}/members"
    leave = await client.post(f"{members_url}/{tenant.user_id}/remove", headers=tenant.headers)
    assert leave.status == 400 and "at least one owner" in await leave.text()
    async with db() as s:
        await accounts.create_user(
            s, "co@example.com", "password-of-co", org_id=tenant.org_id, role="viewer"
        )
        await s.commit()
    grant = await client.post(
        members_url, headers=tenant.headers, data={"email": "co@example.com", "role": "owner"}
    )
    link = re.search(
        r'<code id="invitation-link">[^<]*(/invitations/[^<]+)</code>', await grant.text()
    )
    assert grant.status == 200 and link is not None
    # Co becomes an owner once they accept (tests/dashboard/test_invitations.py).
    csrf = await login(client, "co@example.com", "password-of-co")
    accepted = await client.post(f"{link.group(1)}/accept", data={"csrf_token": csrf})
    assert accepted.status == 200
    leave = await client.post(
        f"{members_url}/{tenant.user_id}/remove", headers=tenant.headers, allow_redirects=False
    )
    assert leave.status == 303


async def test_csrf_is_required_on_every_state_changing_route(
    client: Client, tenant: Tenant, app: web.Application
) -> None:
    await login(client, tenant.email, tenant.password)
    names = ("site_id", "session_id", "org_id", "user_id", "token_id", "visitor_id")
    ids = {k: "1" for k in (*names, "invitation_id")}
    routes = [(m, t) for m, t in private_routes(client.app) if m not in ("GET", "HEAD")]
    assert len(routes) >= 8
    for method, template in routes:
        for data in ({}, {"csrf_token": "forged"}):
            response = await client.request(
                method, fill(template, ids), data={**HOSTILE_FORM, **data}, allow_redirects=False
            )
            assert response.status == 403, f"{method} {template} without CSRF: {response.status}"
            assert (await response.json())["error"]["code"] == "csrf"
    assert (await client.get("/", allow_redirects=False)).status == 200


async def test_dashboard_groups_sites_by_organisation(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    async with db() as s:
        await accounts.set_membership(s, alice.user_id, bob.org_id, "viewer")
        await accounts.create_site(s, alice.org_id, "Second alice site", ["https://two.example"])
        await s.commit()
    await login(client, alice.email, alice.password)
    text = await (await client.get("/")).text()
    headings = re.findall(r'<h2 class="org-name"[^>]*>([^<]*)</h2>', text)
    assert headings == ["Org alice", "Org bob"]
    alice_part, bob_part = text.split('<h2 class="org-name"')[1:]
    assert "Site alice" in alice_part and "Second alice site" in alice_part
    assert "Site bob" in bob_part and "Site alice" not in bob_part
    # Settings only where alice is an admin or owner.
    assert f"/sites/{alice.site_id}/settings" in alice_part
    assert f"/sites/{bob.site_id}/settings" not in bob_part
    assert csrf_from(text)
