from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from unittest.mock import Mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import select, update

from replay_server.accounts import orgs as accounts
from replay_server.accounts.passwords import hash_password, verify_password
from replay_server.accounts.tokens import LAST_USED_RESOLUTION_MS, sha256_hex
from replay_server.app import create_app
from replay_server.auth.csrf import CSRF_COOKIE
from replay_server.auth.login import LOGIN_COOKIE
from replay_server.db.engine import SessionFactory
from replay_server.db.models import ApiToken, LoginSession
from replay_server.errors import ConfigError
from replay_server.proxies import client_ip, parse_trusted_proxies, request_is_secure
from replay_server.settings import Settings
from replay_server.timeutil import now_ms
from tests.browser import Client, csrf_from, login
from tests.conftest import MakeTenant, Tenant


async def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = await hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert await verify_password(hashed, "correct horse battery staple")
    assert not await verify_password(hashed, "correct horse battery stable")
    assert not await verify_password("not-a-hash", "anything")


async def test_api_token_is_stored_only_as_its_sha256(db: SessionFactory, tenant: Tenant) -> None:
    assert tenant.token.startswith("rs_") and len(tenant.token) == 3 + 43
    async with db() as s:
        stored = (await s.scalars(select(ApiToken.token_hash))).all()
    assert stored == [hashlib.sha256(tenant.token.encode()).hexdigest()]


async def test_last_used_is_written_at_most_once_a_minute(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async def last_used() -> int | None:
        async with db() as s:
            return await s.scalar(select(ApiToken.last_used_ms))

    assert await last_used() is None
    await client.get("/api/v1/sites", headers=tenant.headers)
    first = await last_used()
    assert first is not None and abs(first - now_ms()) < 10_000

    recent = now_ms() - LAST_USED_RESOLUTION_MS // 2
    async with db() as s:
        await s.execute(update(ApiToken).values(last_used_ms=recent))
        await s.commit()
    await client.get("/api/v1/sites", headers=tenant.headers)
    assert await last_used() == recent

    stale = now_ms() - 2 * LAST_USED_RESOLUTION_MS
    async with db() as s:
        await s.execute(update(ApiToken).values(last_used_ms=stale))
        await s.commit()
    await client.get("/api/v1/sites", headers=tenant.headers)
    latest = await last_used()
    assert latest is not None and latest > stale + LAST_USED_RESOLUTION_MS


async def test_login_cookie_is_httponly_lax_and_stored_hashed(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    page = await client.get("/login")
    data = {
        "email": tenant.email,
        "password": tenant.password,
        "csrf_token": csrf_from(await page.text()),
    }
    response = await client.post("/login", data=data, allow_redirects=False)
    assert response.status == 303
    cookie = response.cookies[LOGIN_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http, no trusted proxy
    async with db() as s:
        row = await s.scalar(select(LoginSession))
    assert row is not None and row.user_id == tenant.user_id
    assert row.token_hash == sha256_hex(cookie.value) != cookie.value
    assert row.expires_ms - row.created_ms == 14 * 86_400_000


async def test_expired_login_is_anonymous(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    await login(client, tenant.email, tenant.password)
    assert (await client.get("/", allow_redirects=False)).status == 200
    async with db() as s:
        await s.execute(update(LoginSession).values(expires_ms=now_ms() - 1))
        await s.commit()
    assert (await client.get("/", allow_redirects=False)).status == 302
    assert (await client.get("/api/v1/sites")).status == 401


async def test_logout_ends_the_login_session(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    old_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[LOGIN_COOKIE].value
    response = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    async with db() as s:
        assert (await s.scalars(select(LoginSession))).all() == []
    replay = await client.get("/api/v1/sites", headers={"Cookie": f"{LOGIN_COOKIE}={old_cookie}"})
    assert replay.status == 401


async def test_login_cookie_is_secure_behind_a_trusted_https_proxy(
    aiohttp_client: Callable[..., Awaitable[Client]], migrated_settings: Settings, tenant: Tenant
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    for trusted, secure in (("127.0.0.1", True), ("10.9.9.9", False)):
        app = create_app(migrated_settings.replace(trusted_proxies=trusted))
        browser = await aiohttp_client(app)
        page = await browser.get("/login", headers=https)
        pre_login = page.cookies[CSRF_COOKIE]
        assert bool(pre_login["secure"]) is secure
        form = {
            "email": tenant.email,
            "password": tenant.password,
            "csrf_token": csrf_from(await page.text()),
        }
        # The test client speaks plain http, so it keeps Secure cookies to itself: send it.
        headers = {**https, "Cookie": f"{CSRF_COOKIE}={pre_login.value}"}
        response = await browser.post("/login", data=form, headers=headers, allow_redirects=False)
        assert response.status == 303
        assert bool(response.cookies[LOGIN_COOKIE]["secure"]) is secure


async def test_user_in_two_orgs_sees_both(
    client: Client, db: SessionFactory, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    async with db() as s:
        await accounts.set_membership(s, alice.user_id, bob.org_id, "viewer")
        await s.commit()
    response = await client.get("/api/v1/sites", headers=alice.headers)
    assert sorted(s["id"] for s in (await response.json())["sites"]) == sorted(
        [alice.site_id, bob.site_id]
    )


def test_trusted_proxies_parse_and_refuse_garbage() -> None:
    assert len(parse_trusted_proxies("10.0.0.1, 192.168.0.0/16 ,::1")) == 3
    with pytest.raises(ConfigError, match="not-an-ip"):
        parse_trusted_proxies("10.0.0.1,not-an-ip")


def _request(remote: str, headers: dict[str, str]) -> web.Request:
    transport = Mock()  # aiohttp's own test helper wants a transport for the peer address
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 1234) if name == "peername" else default
    )
    return make_mocked_request("GET", "/", headers=headers, transport=transport)


def test_forwarded_proto_only_from_trusted_proxy() -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert request_is_secure(_request("10.0.0.1", forwarded), "10.0.0.0/8")
    assert not request_is_secure(_request("203.0.113.9", forwarded), "10.0.0.0/8")
    assert not request_is_secure(_request("10.0.0.1", {}), "10.0.0.0/8")


def test_client_ip_walks_forwarded_for_through_trusted_hops() -> None:
    headers = {"X-Forwarded-For": "198.51.100.7, 203.0.113.1, 10.0.0.2"}
    assert client_ip(_request("10.0.0.1", headers), "10.0.0.0/8") == "203.0.113.1"
    assert client_ip(_request("203.0.113.50", headers), "10.0.0.0/8") == "203.0.113.50"
    assert client_ip(_request("10.0.0.1", headers), "") == "10.0.0.1"
