"""The signed-in user's account pages (password change, API tokens); the
account page itself is tests/dashboard/test_profile.py, invitations
tests/dashboard/test_invitations.py."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from replay_server.db.engine import SessionFactory
from replay_server.db.models import ApiToken, LoginSession
from tests.browser import Client, login
from tests.conftest import MakeTenant, Tenant


async def test_password_change(client: Client, db: SessionFactory, tenant: Tenant) -> None:
    other: Client = TestClient(client.server)  # a second browser, also signed in
    try:
        await login(other, tenant.email, tenant.password)
        csrf = await login(client, tenant.email, tenant.password)
        page = await client.get("/account/password")
        assert page.status == 200 and 'name="current_password"' in await page.text()
        new = "a brand new passphrase"
        base = {"csrf_token": csrf, "current_password": tenant.password}
        for form, message in (
            ({"new_password": new, "confirm_password": new + "x"}, "do not match"),
            ({"new_password": "short", "confirm_password": "short"}, "at least 8"),
            (
                {"new_password": new, "confirm_password": new, "current_password": "nope"},
                "current password is wrong",
            ),
        ):
            response = await client.post("/account/password", data={**base, **form})
            assert response.status == 400 and message in await response.text()
        done = await client.post(
            "/account/password", data={**base, "new_password": new, "confirm_password": new}
        )
        assert done.status == 200 and "Password changed" in await done.text()
        # This browser stays signed in; the other one was signed out.
        assert (await client.get("/", allow_redirects=False)).status == 200
        assert (await other.get("/", allow_redirects=False)).status == 302
        async with db() as s:
            assert len((await s.scalars(select(LoginSession))).all()) == 1
    finally:
        await other.session.close()  # not other.close(): that stops the shared server
    client.session.cookie_jar.clear()
    await login(client, tenant.email, new)


async def test_tokens_created_shown_once_listed_and_revoked(
    client: Client, db: SessionFactory, tenant: Tenant, make_tenant: MakeTenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    created = await client.post(
        "/account/tokens", data={"name": "<b>export</b>", "csrf_token": csrf}
    )
    text = await created.text()
    match = re.search(r'<code id="new-token">(rs_[A-Za-z0-9_-]{43})</code>', text)
    assert created.status == 200 and match is not None
    token = match.group(1)
    assert "&lt;b&gt;export&lt;/b&gt;" in text and "<b>export" not in text
    api = await client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200
    listing = await (await client.get("/account/tokens")).text()
    assert token not in listing and "&lt;b&gt;export&lt;/b&gt;" in listing
    async with db() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.name == "<b>export</b>"))
    assert row is not None and token not in row.token_hash
    # Someone else cannot revoke it, even knowing its id.
    bob = await make_tenant("bob")
    refused = await client.post(f"/account/tokens/{row.id}/revoke", headers=bob.headers)
    assert refused.status == 404
    revoke = await client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert revoke.status == 200 and "Token revoked" in await revoke.text()
    gone = await client.get(
        "/api/v1/sites", headers={"Authorization": f"Bearer {token}"}, cookies={}
    )
    assert gone.status == 401
    long_name = await client.post("/account/tokens", data={"name": "x" * 201, "csrf_token": csrf})
    assert long_name.status == 400
