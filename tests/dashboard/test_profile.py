"""The user's own data on /account (issue 14, item 9): view and edit their
e-mail and name, see their organisations, sign-ins and API tokens, end a
sign-in, delete the account (refused while they are an only owner)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from replay_server.accounts import orgs as accounts
from replay_server.db.engine import SessionFactory
from replay_server.db.models import ApiToken, LoginSession, Membership, User
from tests.browser import Client, login
from tests.conftest import BOTH_DATABASES, MakeTenant, Tenant

pytestmark = BOTH_DATABASES

LOGIN_IDS = re.compile(r'name="login" value="([0-9a-f]{64})"')


async def test_the_account_page_shows_what_is_stored_about_the_user(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    async with db() as s:
        await accounts.set_membership(s, alice.user_id, bob.org_id, "viewer")
        await accounts.create_api_token(s, alice.email, "nightly export")
        await s.commit()
    await login(client, alice.email, alice.password)
    page = await client.get("/account")
    text = await page.text()
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'value="alice@example.com"' in text
    assert "<td>Org alice</td><td>owner</td>" in text and "<td>Org bob</td><td>viewer</td>" in text
    assert "nightly export" in text and "(this browser)" in text
    assert len(LOGIN_IDS.findall(text)) == 1
    assert bob.email not in text


async def test_name_and_email_are_edited_by_their_owner(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    csrf = await login(client, alice.email, alice.password)
    named = await client.post(
        "/account", data={"email": alice.email, "name": "Alice A.", "csrf_token": csrf}
    )
    assert named.status == 200 and "Your details were saved" in await named.text()
    assert 'value="Alice A."' in await named.text()
    for form, status, message in (
        ({"email": "new@example.com", "password": "wrong"}, 400, "current password is wrong"),
        ({"email": "new@example.com"}, 400, "current password is wrong"),
        ({"email": "not an email", "password": alice.password}, 400, "invalid email"),
        ({"email": alice.email, "name": "x" * 201}, 400, "at most 200"),
        ({"email": bob.email, "password": alice.password}, 400, "cannot be used"),
    ):
        response = await client.post(
            "/account", data={"name": "Alice A.", **form, "csrf_token": csrf}
        )
        assert response.status == status and message in (await response.text()).lower(), form
    forged = await client.post("/account", data={"email": alice.email, "name": "pwned"})
    assert forged.status == 403
    moved = await client.post(
        "/account",
        data={"email": "Alice.New@Example.com", "name": "Alice A.", "password": alice.password,
              "csrf_token": csrf},
    )  # fmt: skip
    assert moved.status == 200
    async with db() as s:
        user = await s.get(User, alice.user_id)
        assert user is not None and (user.email, user.name) == ("alice.new@example.com", "Alice A.")
    other: Client = TestClient(client.server)
    try:
        await login(other, "alice.new@example.com", alice.password)
    finally:
        await other.session.close()


async def test_a_sign_in_is_ended_from_the_account_page(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    other: Client = TestClient(client.server)
    try:
        await login(other, alice.email, alice.password)
        csrf = await login(client, alice.email, alice.password)
        text = await (await client.get("/account")).text()
        ids = LOGIN_IDS.findall(text)
        assert len(ids) == 2
        current = re.search(r'\(this browser\).*?name="login" value="([0-9a-f]{64})"', text, re.S)
        assert current is not None
        other_id = next(i for i in ids if i != current.group(1))
        # Bob cannot end alice's sign-in, even knowing its id.
        bob_csrf_browser: Client = TestClient(client.server)
        try:
            bob_csrf = await login(bob_csrf_browser, bob.email, bob.password)
            refused = await bob_csrf_browser.post(
                "/account/logins/end", data={"login": other_id, "csrf_token": bob_csrf}
            )
            assert refused.status == 404
        finally:
            await bob_csrf_browser.session.close()
        assert (await other.get("/", allow_redirects=False)).status == 200
        ended = await client.post(
            "/account/logins/end", data={"login": other_id, "csrf_token": csrf}
        )
        assert ended.status == 200 and "That sign-in was ended" in await ended.text()
        assert (await other.get("/", allow_redirects=False)).status == 302
        assert (await client.get("/", allow_redirects=False)).status == 200
    finally:
        await other.session.close()


async def test_an_only_owner_cannot_delete_their_account(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    page = await (await client.get("/account")).text()
    assert "You are the only owner of Org alice" in page
    refused = await client.post(
        "/account/delete", data={"password": tenant.password, "csrf_token": csrf}
    )
    text = await refused.text()
    assert refused.status == 400 and "You are the only owner of Org alice" in text
    async with db() as s:
        assert await s.get(User, tenant.user_id) is not None


async def test_deleting_the_account_removes_it_and_everything_of_it(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        co = await accounts.create_user(
            s, "co@example.com", "password-of-co", org_id=tenant.org_id, role="owner"
        )
        await s.commit()
    csrf = await login(client, tenant.email, tenant.password)
    wrong = await client.post("/account/delete", data={"password": "nope", "csrf_token": csrf})
    assert wrong.status == 400 and "current password is wrong" in await wrong.text()
    no_csrf = await client.post("/account/delete", data={"password": tenant.password})
    assert no_csrf.status == 403
    gone = await client.post(
        "/account/delete",
        data={"password": tenant.password, "csrf_token": csrf},
        allow_redirects=False,
    )
    assert gone.status == 303 and gone.headers["Location"] == "/login"
    async with db() as s:
        assert await s.get(User, tenant.user_id) is None
        for model in (ApiToken, LoginSession, Membership):
            rows = await s.scalars(select(model).where(model.user_id == tenant.user_id))
            assert rows.all() == [], model
        assert await s.get(Membership, (co.id, tenant.org_id)) is not None
    assert (await client.get("/", allow_redirects=False)).status == 302
    api = await client.get("/api/v1/sites", headers=tenant.headers, cookies={})
    assert api.status == 401
