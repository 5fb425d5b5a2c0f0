"""Invitations (issue 14, item 7): an admin gets the same answer whether or not
the address has an account anywhere, nobody joins an organisation without
accepting, and links are single-use, expire and can be revoked."""

from __future__ import annotations

import logging
import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from replay_server.accounts import orgs as accounts
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Invitation, Membership, User
from replay_server.logs import TEXT_FORMAT, JsonFormatter, RedactingFormatter
from tests.browser import Client, csrf_from, login
from tests.conftest import BOTH_DATABASES, MakeTenant, Tenant

pytestmark = BOTH_DATABASES

LINK = re.compile(
    r'<code id="invitation-link">https?://[^<]*(/invitations/(ri_[A-Za-z0-9_-]{43}))</code>'
)

PENDING = re.compile(r'<table class="table invitations">.*?</table>', re.DOTALL)


async def invite(client: Client, org_id: int, email: str, role: str, csrf: str) -> tuple[str, str]:
    """Invite through the members page: (the page's text, the link's path)."""
    response = await client.post(
        f"/orgs/{org_id}/members", data={"email": email, "role": role, "csrf_token": csrf}
    )
    text = await response.text()
    match = LINK.search(text)
    assert response.status == 200 and match is not None, text[:500]
    return text, match.group(1)


async def role_of(db: SessionFactory, email: str, org_id: int) -> str | None:
    async with db() as s:
        return await s.scalar(
            select(Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.org_id == org_id)
        )


def anonymous(client: Client) -> Client:
    browser: Client = TestClient(client.server)
    return browser


async def test_another_tenants_user_gets_the_same_answer_and_is_not_added(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    csrf = await login(client, alice.email, alice.password)
    known, known_link = await invite(client, alice.org_id, bob.email, "viewer", csrf)
    unknown, unknown_link = await invite(client, alice.org_id, "nobody@example.org", "viewer", csrf)

    def neutral(text: str, email: str, link: str) -> str:
        # The pending list grows by one row between the two answers; the rest is equal.
        text = PENDING.sub("", text.replace(link, "LINK").replace(email, "EMAIL"))
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", text)

    assert neutral(known, bob.email, known_link) == neutral(
        unknown, "nobody@example.org", unknown_link
    )
    assert "Invitation created" in known and "already" not in known.lower()
    # Bob is a member of nothing of alice's until he accepts; no account was made.
    assert await role_of(db, bob.email, alice.org_id) is None
    async with db() as s:
        assert await s.scalar(select(User).where(User.email == "nobody@example.org")) is None
        hashes = (await s.scalars(select(Invitation.token_hash))).all()
    # The database keeps only the tokens' hashes.
    assert len(hashes) == 2 and not {known_link, unknown_link} & set(hashes)
    assert all(link.rsplit("/", 1)[1] not in h for h in hashes for link in (known_link,))


async def test_a_new_user_chooses_their_password_and_joins(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    _, link = await invite(client, tenant.org_id, "New.Person@Example.com", "viewer", csrf)
    browser = anonymous(client)
    try:
        page = await browser.get(link)
        text = await page.text()
        assert page.status == 200 and "Org alice" in text and "new.person@example.com" in text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        # Both ways are offered: the page does not say whether the address has an account.
        assert 'name="confirm_password"' in text and "Sign in to accept" in text
        form = {"name": "New Person", "csrf_token": csrf_from(text)}
        mismatch = await browser.post(
            f"{link}/new-account", data={**form, "password": "p" * 12, "confirm_password": "q" * 12}
        )
        assert mismatch.status == 400 and "do not match" in await mismatch.text()
        short = await browser.post(
            f"{link}/new-account", data={**form, "password": "short", "confirm_password": "short"}
        )
        assert short.status == 400 and "at least 8" in await short.text()
        chosen = "my own chosen passphrase"
        forged = await browser.post(
            f"{link}/new-account",
            data={"name": "x", "password": chosen, "confirm_password": chosen},
        )
        assert forged.status == 403 and (await forged.json())["error"]["code"] == "csrf"
        assert await role_of(db, "new.person@example.com", tenant.org_id) is None
        done = await browser.post(
            f"{link}/new-account",
            data={**form, "password": chosen, "confirm_password": chosen},
            allow_redirects=False,
        )
        assert done.status == 303 and done.headers["Location"] == "/"
        home = await browser.get("/", allow_redirects=False)
        assert home.status == 200 and "Org alice" in await home.text()
    finally:
        await browser.session.close()
    assert await role_of(db, "new.person@example.com", tenant.org_id) == "viewer"
    async with db() as s:
        user = await s.scalar(select(User).where(User.email == "new.person@example.com"))
        assert user is not None and user.name == "New Person"
        assert (await s.scalars(select(Invitation))).all() == []
    # Used: the link is refused now, to anyone.
    again = anonymous(client)
    try:
        refused = await again.get(link)
        assert refused.status == 404 and "not valid" in await refused.text()
        await login(again, "new.person@example.com", chosen)
    finally:
        await again.session.close()


async def test_an_existing_user_signs_in_as_the_address_and_accepts(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob, carol = [await make_tenant(n) for n in ("alice", "bob", "carol")]
    csrf = await login(client, alice.email, alice.password)
    _, link = await invite(client, alice.org_id, bob.email, "admin", csrf)
    browser = anonymous(client)
    try:
        # Creating an account for an address that has one: refused, nothing joins.
        page = await (await browser.get(link)).text()
        taken = await browser.post(
            f"{link}/new-account",
            data={"password": "p" * 12, "confirm_password": "p" * 12,
                  "csrf_token": csrf_from(page)},
        )  # fmt: skip
        assert taken.status == 400 and f"sign in as {bob.email}" in (await taken.text()).lower()
        # Signed in as someone else: told so; accepting is refused.
        other_csrf = await login(browser, carol.email, carol.password, next_path=link)
        as_carol = await (await browser.get(link)).text()
        assert f"This invitation is for {bob.email}" in as_carol and "/accept" not in as_carol
        wrong = await browser.post(f"{link}/accept", data={"csrf_token": other_csrf})
        assert wrong.status == 403
        assert await role_of(db, carol.email, alice.org_id) is None
        await browser.post("/logout", data={"csrf_token": other_csrf})
        # Bob signs in from the page's link and comes back to it, then accepts.
        bob_csrf = await login(browser, bob.email, bob.password, next_path=link)
        as_bob = await (await browser.get(link)).text()
        assert f'action="{link}/accept"' in as_bob
        assert await role_of(db, bob.email, alice.org_id) is None
        no_csrf = await browser.post(f"{link}/accept")
        assert no_csrf.status == 403 and await role_of(db, bob.email, alice.org_id) is None
        accepted = await browser.post(
            f"{link}/accept", data={"csrf_token": bob_csrf}, allow_redirects=False
        )
        assert accepted.status == 303
        assert await role_of(db, bob.email, alice.org_id) == "admin"
        assert await role_of(db, bob.email, bob.org_id) == "owner"
        reused = await browser.post(f"{link}/accept", data={"csrf_token": bob_csrf})
        assert reused.status == 404
    finally:
        await browser.session.close()


async def test_expired_links_are_refused_and_not_listed(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    _, link = await invite(client, tenant.org_id, "late@example.com", "viewer", csrf)
    async with db() as s:
        await s.execute(update(Invitation).values(expires_ms=1))
        await s.commit()
    members = await (await client.get(f"/orgs/{tenant.org_id}/members")).text()
    assert "late@example.com" not in members
    browser = anonymous(client)
    try:
        page = await browser.get(link)
        assert page.status == 404 and "not valid" in await page.text()
        token_page = await (await browser.get("/login")).text()
        create = await browser.post(
            f"{link}/new-account",
            data={"password": "p" * 12, "confirm_password": "p" * 12,
                  "csrf_token": csrf_from(token_page)},
        )  # fmt: skip
        assert create.status == 404
    finally:
        await browser.session.close()
    async with db() as s:
        assert await s.scalar(select(User).where(User.email == "late@example.com")) is None
    # The next invitation purges expired rows: their addresses are not kept.
    await invite(client, tenant.org_id, "next@example.com", "viewer", csrf)
    async with db() as s:
        assert (await s.scalars(select(Invitation.email))).all() == ["next@example.com"]


async def test_admins_list_and_revoke_pending_invitations(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        await accounts.create_user(
            s, "adam@example.com", "password-of-adam", org_id=tenant.org_id, role="admin"
        )
        await s.commit()
    csrf = await login(client, tenant.email, tenant.password)
    _, owner_link = await invite(client, tenant.org_id, "co@example.com", "owner", csrf)
    _, viewer_link = await invite(client, tenant.org_id, "vi@example.com", "viewer", csrf)
    page = await (await client.get(f"/orgs/{tenant.org_id}/members")).text()
    assert "Pending invitations" in page and "co@example.com" in page and "vi@example.com" in page
    assert owner_link not in page and viewer_link not in page  # shown once only
    async with db() as s:
        ids = dict((await s.execute(select(Invitation.email, Invitation.id))).all())
    # An admin (not owner) cannot revoke an invitation to the owner role.
    admin: Client = anonymous(client)
    try:
        admin_csrf = await login(admin, "adam@example.com", "password-of-adam")
        refused = await admin.post(
            f"/orgs/{tenant.org_id}/invitations/{ids['co@example.com']}/revoke",
            data={"csrf_token": admin_csrf},
        )
        assert refused.status == 403
    finally:
        await admin.session.close()
    revoked = await client.post(
        f"/orgs/{tenant.org_id}/invitations/{ids['vi@example.com']}/revoke",
        data={"csrf_token": csrf},
    )
    assert revoked.status == 200 and "Invitation revoked" in await revoked.text()
    browser = anonymous(client)
    try:
        assert (await browser.get(viewer_link)).status == 404
        assert (await browser.get(owner_link)).status == 200
    finally:
        await browser.session.close()


async def test_a_removed_admins_invitations_lapse(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        adam = await accounts.create_user(
            s, "adam@example.com", "password-of-adam", org_id=tenant.org_id, role="admin"
        )
        await s.commit()
    browser = anonymous(client)
    try:
        csrf = await login(browser, "adam@example.com", "password-of-adam")
        _, link = await invite(browser, tenant.org_id, "friend@example.com", "admin", csrf)
    finally:
        await browser.session.close()
    csrf = await login(client, tenant.email, tenant.password)
    removed = await client.post(
        f"/orgs/{tenant.org_id}/members/{adam.id}/remove", data={"csrf_token": csrf}
    )
    assert removed.status == 200
    invitee = anonymous(client)
    try:
        assert (await invitee.get(link)).status == 404
        page = await (await invitee.get("/login")).text()
        create = await invitee.post(
            f"{link}/new-account",
            data={"password": "p" * 12, "confirm_password": "p" * 12,
                  "csrf_token": csrf_from(page)},
        )  # fmt: skip
        assert create.status == 404
    finally:
        await invitee.session.close()
    assert await role_of(db, "friend@example.com", tenant.org_id) is None


async def test_an_admin_cannot_invite_to_another_organisation(
    client: Client, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    csrf = await login(client, alice.email, alice.password)
    response = await client.post(
        f"/orgs/{bob.org_id}/members",
        data={"email": "x@example.com", "role": "viewer", "csrf_token": csrf},
    )
    assert response.status == 404


async def test_the_link_token_never_reaches_a_log(
    client: Client, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    _, link = await invite(client, tenant.org_id, "logged@example.com", "viewer", csrf)
    token = link.rsplit("/", 1)[1]
    browser = anonymous(client)
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    try:
        assert (await browser.get(link)).status == 200
        await browser.get("/login", params={"next": link})
    finally:
        await browser.session.close()
    lines = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any(token in r.getMessage() for r in lines)  # what the formatters receive
    for formatter in (RedactingFormatter(TEXT_FORMAT), JsonFormatter()):
        written = "\n".join(formatter.format(r) for r in lines)
        assert "/invitations/ri_…" in written and token not in written
