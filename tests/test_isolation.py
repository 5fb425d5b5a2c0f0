"""Isolation between organisations, table-driven over EVERY route of the app.

Two organisations, each with a site, sessions, members and tokens. Every
private route whose path names an object (site, session, organisation, member,
token, visitor...) is requested with the ids of the victim's objects, by the
other organisation's owner, once with a Bearer token and once with the login
cookie (and a valid CSRF token, so CSRF is not what stops it): it must answer
404, exactly like an id that does not exist, with none of the victim's data,
and change nothing. A route with a placeholder this test does not know fails
the test, and so does a private route without an id that is not listed in
UNSCOPED below: a new route is never silently left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from replay_server.accounts import orgs as accounts
from replay_server.accounts.invitations import create_invitation
from replay_server.auth.middleware import is_public
from replay_server.chunks.dictionary_store import add_dictionary
from replay_server.db.engine import SessionFactory
from replay_server.db.models import (
    ApiToken,
    Chunk,
    Invitation,
    Membership,
    RecordedSession,
    Site,
    User,
)
from replay_server.db.principal import load_principal
from tests.browser import Client, login
from tests.conftest import AddSession, MakeTenant, Tenant

VICTIM_VISITOR = "0b9f3c2e-7a51-4e0c-9d3b-5f1a2c3d4e5f"
# Ids of nothing at all, of the right shape for each placeholder.
MISSING_IDS = {
    "site_id": "987654",
    "session_id": "5d2c1b0a-9f8e-4d7c-8b6a-0123456789ab",
    "org_id": "987654",
    "user_id": "987654",
    "token_id": "987654",
    "visitor_id": "6e3d2c1b-0a9f-4e8d-9c7b-123456789abc",
    "invitation_id": "987654",
    "chunk": "987654",
    "dictionary_id": "987654",
}
PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# Private routes without an object id in the path: each only ever shows or
# changes the caller's own things (their sites, their account). They are
# checked for leaks of the other organisation's data instead of for 404.
UNSCOPED = {
    ("GET", "/"),
    ("POST", "/logout"),
    ("GET", "/api/v1/sites"),
    ("GET", "/account"),
    ("POST", "/account"),
    ("POST", "/account/logins/end"),
    ("POST", "/account/delete"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("GET", "/account/tokens"),
    ("POST", "/account/tokens"),
}
# Form fields sent with every state-changing request: what an attacker would
# send to change the victim's things if a scope check were missing.
HOSTILE_FORM = {
    "name": "pwned",
    "origins": "https://evil.example",
    "record": "on",
    "sample_percent": "100",
    "mousemove_sample_ms": "50",
    "retention_days": "1",
    "ip_mode": "full",
    "block_selector": "",
    "mask_text_selector": "",
    "email": "mallory@evil.example",
    "role": "owner",
    "password": "",
}


@dataclass(frozen=True)
class World:
    victim: Tenant
    attacker: Tenant
    ids: dict[str, str]  # placeholder -> the victim's object id
    secrets: list[str]  # strings that must never reach the attacker


def private_routes(app: web.Application) -> list[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("formatter") or info.get("path") or info.get("prefix") or ""
        if template and not is_public(template):
            found.add((route.method, template))
    return sorted(found)


def fill(template: str, ids: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"route {template}: unknown placeholder {{{name}}}; add it to World.ids")
        return ids[name]

    return PLACEHOLDER.sub(one, template)


@pytest.fixture
async def world(db: SessionFactory, make_tenant: MakeTenant, add_session: AddSession) -> World:
    victim, attacker = await make_tenant("alice"), await make_tenant("bob")
    session_id = await add_session(
        victim.site_id, ["https://alice.example/secret-page"], visitor_id=VICTIM_VISITOR
    )
    await add_session(attacker.site_id, ["https://bob.example/"])
    async with db() as s:
        colleague = await accounts.create_user(
            s, "carol@example.com", "password-of-carol", org_id=victim.org_id, role="viewer"
        )
        token_id = await s.scalar(select(ApiToken.id).where(ApiToken.user_id == victim.user_id))
        victim_user = await s.get(User, victim.user_id)
        assert victim_user is not None
        victim_principal = await load_principal(s, victim_user)
        await create_invitation(s, victim_principal, victim.org_id, "dave@example.com", "viewer")
        invitation_id = await s.scalar(select(Invitation.id))
        s.add(
            Chunk(
                session_id=session_id, idx=0, page=0, blob_key=f"s/{victim.site_id}/x/0",
                format_version=2, first_seq=0, last_seq=0, first_ts=1, last_ts=2, event_count=1,
                raw_bytes=1, stored_bytes=1, has_full_snapshot=True, created_ms=1,
            )
        )  # fmt: skip
        await s.commit()
    # A dictionary is read from its row: the victim gets it (below), nobody else.
    dictionary_id = await add_dictionary(db, victim.site_id, b"alice's dictionary", 1, 1, 1)
    ids = {
        "site_id": str(victim.site_id),
        "session_id": session_id,
        "org_id": str(victim.org_id),
        "user_id": str(colleague.id),
        "token_id": str(token_id),
        "visitor_id": VICTIM_VISITOR,
        "invitation_id": str(invitation_id),
        "chunk": "0",
        "dictionary_id": str(dictionary_id),
    }
    secrets = [
        victim.email,
        victim.site_key,
        "Site alice",
        "Org alice",
        "alice.example",
        session_id,
        VICTIM_VISITOR,
        "carol@example.com",
        "dave@example.com",
        "alice's dictionary",
    ]
    return World(victim, attacker, ids, secrets)


async def snapshot(db: SessionFactory) -> dict[str, Any]:
    """Everything an attack on the victim could change."""
    async with db() as s:
        sites = [
            (x.id, x.name, x.public_key, list(x.allowed_origins), dict(x.settings))
            for x in (await s.scalars(select(Site).order_by(Site.id))).all()
        ]
        members = sorted(
            (m.user_id, m.org_id, m.role) for m in (await s.scalars(select(Membership))).all()
        )
        tokens = sorted(
            (t.id, t.user_id, t.revoked_ms) for t in (await s.scalars(select(ApiToken))).all()
        )
        sessions = sorted((await s.scalars(select(RecordedSession.id))).all())
        invitations = sorted((await s.scalars(select(Invitation.id))).all())
    return {
        "sites": sites,
        "members": members,
        "tokens": tokens,
        "sessions": sessions,
        "invitations": invitations,
    }


async def attempt(
    client: Client, method: str, path: str, headers: dict[str, str], csrf: str | None
) -> tuple[int, str]:
    data = {**HOSTILE_FORM, **({"csrf_token": csrf} if csrf else {})}
    kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if method not in ("GET", "HEAD"):
        kwargs["data"] = data
    response = await client.request(method, path, **kwargs)
    return response.status, await response.text()


def test_every_route_is_accounted_for(app: web.Application) -> None:
    routes = private_routes(app)
    assert ("GET", "/sites/{site_id}/sessions") in routes  # the enumeration works
    for method, template in routes:
        if not PLACEHOLDER.search(template):
            assert (method, template) in UNSCOPED or (
                method == "HEAD" and ("GET", template) in UNSCOPED
            ), f"{method} {template}: a private route without an id must be listed in UNSCOPED"


@pytest.mark.parametrize("credentials", ["token", "cookie"])
async def test_other_organisation_gets_404_and_no_data_on_every_route(
    client: Client, db: SessionFactory, world: World, credentials: str
) -> None:
    attacker = world.attacker
    if credentials == "token":
        headers, csrf = attacker.headers, None
    else:
        csrf = await login(client, attacker.email, attacker.password)
        headers = {"X-CSRF-Token": csrf, "Accept": "text/html"}
    before = await snapshot(db)
    checked = 0
    for method, template in private_routes(client.app):
        if not PLACEHOLDER.search(template) or template == "/logout":
            continue
        path = fill(template, world.ids)
        status, body = await attempt(client, method, path, headers, csrf)
        assert status == 404, f"{method} {path} as the other org: {status} {body[:200]}"
        for secret in world.secrets:
            assert secret not in body, f"{method} {path} leaks {secret!r}"
        # Guessing: an id of the victim answers exactly like an id that does not exist.
        missing = fill(template, MISSING_IDS)
        status_missing, _ = await attempt(client, method, missing, headers, csrf)
        assert status_missing == status, f"{method} {template}: existence leaks via status"
        checked += 1
    assert checked >= 8
    assert await snapshot(db) == before


@pytest.mark.parametrize("credentials", ["token", "cookie"])
async def test_unscoped_routes_show_only_the_callers_data(
    client: Client, db: SessionFactory, world: World, credentials: str
) -> None:
    attacker = world.attacker
    if credentials == "token":
        headers, csrf = attacker.headers, None
    else:
        csrf = await login(client, attacker.email, attacker.password)
        headers = {"X-CSRF-Token": csrf}
    before = await snapshot(db)
    for method, template in sorted(UNSCOPED):
        if template in ("/logout", "/account/password"):
            continue  # would end the attacker's own login / touch only their account
        status, body = await attempt(client, method, template, headers, csrf)
        assert status < 500, f"{method} {template}: {status}"
        for secret in world.secrets:
            assert secret not in body, f"{method} {template} leaks {secret!r}"
    after = await snapshot(db)
    assert after["sites"] == before["sites"] and after["members"] == before["members"]
    victim_tokens = [t for t in after["tokens"] if t[1] == world.victim.user_id]
    assert victim_tokens == [t for t in before["tokens"] if t[1] == world.victim.user_id]


async def test_the_victim_still_sees_everything(client: Client, world: World) -> None:
    """The same requests by the owner succeed: the 404s above come from scoping."""
    victim = world.victim
    for path in (
        f"/api/v1/sites/{victim.site_id}/sessions",
        f"/api/v1/sessions/{world.ids['session_id']}",
        f"/sites/{victim.site_id}/settings",
        f"/orgs/{victim.org_id}/members",
        f"/api/v1/sites/{victim.site_id}/dictionaries/{world.ids['dictionary_id']}",
    ):
        response = await client.get(path, headers=victim.headers)
        assert response.status == 200, path
