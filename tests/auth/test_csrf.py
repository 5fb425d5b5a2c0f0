"""CSRF tokens (auth/csrf.py): an unsafe cookie-authenticated request needs
the token of its own login; before login, the token of its pre-login cookie
under this server's secret."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from replay_server import keys
from replay_server.auth.csrf import (
    CSRF_COOKIE,
    CSRF_HEADER,
    apply_pending_cookie,
    check_csrf,
    csrf_token,
)
from replay_server.errors import Forbidden
from replay_server.settings import Settings
from tests.browser import Client, login
from tests.conftest import MakeTenant, Tenant


async def test_unsafe_request_needs_csrf_token(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": "forg\u00e9d"}):
        response = await client.post("/logout", data=data, allow_redirects=False)
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "csrf"
    assert (await client.get("/", allow_redirects=False)).status == 200  # still logged in


async def test_csrf_token_is_bound_to_the_login(client: Client, make_tenant: MakeTenant) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    alice_csrf = await login(client, alice.email, alice.password)
    second: Client = TestClient(client.server)  # another browser, logged in as bob
    try:
        bob_csrf = await login(second, bob.email, bob.password)
        assert bob_csrf != alice_csrf
        refused = await second.post("/logout", data={"csrf_token": alice_csrf})
        assert refused.status == 403
    finally:
        await second.close()


def app_with_secret(secret: bytes = b"s" * 32) -> web.Application:
    app = web.Application()
    app[keys.SECRET] = secret
    app[keys.SETTINGS] = Settings()  # cookies' Secure flag reads trusted_proxies
    return app


def request_with(
    app: web.Application, *, cookie: str | None = None, token: str | None = None
) -> web.Request:
    headers = {} if token is None else {CSRF_HEADER: token}
    if cookie is not None:
        headers["Cookie"] = f"{CSRF_COOKIE}={cookie}"
    return make_mocked_request("POST", "/logout", headers=headers, app=app)


async def test_a_pre_login_token_is_bound_to_its_cookie_and_secret() -> None:
    app = app_with_secret()
    first = make_mocked_request("GET", "/login", app=app)
    token = csrf_token(first)
    assert csrf_token(first) == token  # one nonce per request
    response = web.Response()
    apply_pending_cookie(first, response)
    nonce = response.cookies[CSRF_COOKIE].value
    assert response.cookies[CSRF_COOKIE]["httponly"]

    await check_csrf(request_with(app, cookie=nonce, token=token))
    for cookie, forged in ((nonce, token + "x"), ("other", token), (None, token)):
        with pytest.raises(Forbidden) as refused:
            await check_csrf(request_with(app, cookie=cookie, token=forged))
        assert refused.value.code == "csrf"
    with pytest.raises(Forbidden):
        await check_csrf(request_with(app_with_secret(b"t" * 32), cookie=nonce, token=token))


def test_a_request_with_a_cookie_reuses_it() -> None:
    app = app_with_secret()
    request = make_mocked_request("GET", "/", headers={"Cookie": f"{CSRF_COOKIE}=n1"}, app=app)
    token = csrf_token(request)
    response = web.Response()
    apply_pending_cookie(request, response)
    assert CSRF_COOKIE not in response.cookies  # no new cookie: the browser's stands
    again = make_mocked_request("GET", "/", headers={"Cookie": f"{CSRF_COOKIE}=n1"}, app=app)
    assert csrf_token(again) == token
