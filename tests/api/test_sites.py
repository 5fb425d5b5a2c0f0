from __future__ import annotations

from replay_server.accounts import orgs as accounts
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Site
from tests.browser import Client, login
from tests.conftest import BOTH_DATABASES, AddSession, MakeTenant, Tenant

pytestmark = BOTH_DATABASES


async def test_sites_of_the_callers_organisations_only(
    client: Client, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    await add_session(alice.site_id, ["https://alice.example/"])
    await add_session(alice.site_id, ["https://alice.example/cart"])
    await add_session(bob.site_id, ["https://bob.example/"])
    response = await client.get("/api/v1/sites", headers=alice.headers)
    assert response.status == 200
    (site,) = (await response.json())["sites"]
    assert site["id"] == alice.site_id
    assert site["org_id"] == alice.org_id
    assert site["name"] == "Site alice"
    assert site["public_key"] == alice.site_key
    assert site["origins"] == ["https://alice.example"]
    assert site["session_count"] == 2
    assert site["settings"] == accounts.DEFAULT_SITE_SETTINGS
    assert site["created_at"].endswith("Z")


async def test_member_of_an_org_without_sites_sees_none(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        org = await accounts.ensure_organisation(s, "Empty org")
        user = await accounts.create_user(
            s, "carol@example.com", "carol-password", org_id=org.id, role="viewer"
        )
        token, _ = await accounts.create_api_token(s, user.email)
        await s.commit()
    response = await client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert await response.json() == {"sites": []}


async def test_sites_with_the_login_cookie(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get("/api/v1/sites")
    assert response.status == 200
    assert [s["id"] for s in (await response.json())["sites"]] == [tenant.site_id]


async def test_sites_anonymous_is_401(client: Client) -> None:
    response = await client.get("/api/v1/sites")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_settings_are_shown_as_in_effect(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    """A site stored by older code (a missing field, an ill-typed one, an old
    key): the API shows what the ingest path applies, and keeps the old key."""
    async with db() as s:
        site = await s.get(Site, tenant.site_id)
        assert site is not None
        site.settings = {"record": False, "retention_days": "7", "batch_ms": 500}
        await s.commit()
    response = await client.get("/api/v1/sites", headers=tenant.headers)
    (shown,) = (await response.json())["sites"]
    assert shown["settings"] == {
        **accounts.DEFAULT_SITE_SETTINGS, "record": False, "batch_ms": 500,
    }  # fmt: skip
