"""Brute force: failed logins are limited per account and client IP, per client IP
and per account (tests/auth/test_throttle_lockout.py: nobody is locked out)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import ClientResponse

from replay_server import keys
from replay_server.app import create_app
from replay_server.auth.throttle import FailureWindow, LoginThrottle
from replay_server.settings import Settings
from tests.browser import Client, csrf_from, login
from tests.conftest import Tenant


async def attempt(
    client: Client, email: str, password: str, headers: dict[str, str] | None = None
) -> ClientResponse:
    page = await client.get("/login", headers=headers)
    data = {"email": email, "password": password, "csrf_token": csrf_from(await page.text())}
    return await client.post("/login", data=data, headers=headers, allow_redirects=False)


async def test_sixth_wrong_password_in_a_minute_is_429(client: Client, tenant: Tenant) -> None:
    for _ in range(5):
        assert (await attempt(client, tenant.email, "wrong password")).status == 401
    refused = await attempt(client, tenant.email, "wrong password")
    assert refused.status == 429
    assert "Too many failed sign-in attempts" in await refused.text()
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # While locked, even the right password is refused: guessing gains nothing.
    locked = await attempt(client, tenant.email.upper(), tenant.password)
    assert locked.status == 429 and "rs_login" not in locked.cookies


async def test_logging_in_later_works(
    aiohttp_client: Callable[..., Awaitable[Client]], migrated_settings: Settings, tenant: Tenant
) -> None:
    app = create_app(migrated_settings)
    now = [1000.0]  # the limits' clock, moved on by hand instead of sleeping a minute
    app[keys.LOGIN_THROTTLE] = LoginThrottle(
        FailureWindow(5, 60.0, clock=lambda: now[0]),
        FailureWindow(20, 60.0, clock=lambda: now[0]),
        FailureWindow(10, 60.0, clock=lambda: now[0]),
    )
    client = await aiohttp_client(app)
    for _ in range(5):
        assert (await attempt(client, tenant.email, "wrong password")).status == 401
        now[0] += 5
    assert (await attempt(client, tenant.email, tenant.password)).status == 429
    now[0] += 40  # 60 s after the first failure
    assert (await attempt(client, tenant.email, tenant.password)).status == 303


async def test_per_ip_limit_follows_the_client_ip_behind_a_trusted_proxy(
    aiohttp_client: Callable[..., Awaitable[Client]], migrated_settings: Settings, tenant: Tenant
) -> None:
    settings = migrated_settings.replace(
        trusted_proxies="127.0.0.1", login_failures_per_ip=3, login_failures_per_account=100
    )
    client = await aiohttp_client(create_app(settings))
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    for i in range(3):
        assert (await attempt(client, f"user{i}@example.com", "x" * 10, attacker)).status == 401
    assert (await attempt(client, "fresh@example.com", "x" * 10, attacker)).status == 429
    assert (await attempt(client, tenant.email, tenant.password, attacker)).status == 429
    # Another visitor behind the same proxy is not affected.
    other = {"X-Forwarded-For": "203.0.113.6"}
    assert (await attempt(client, tenant.email, tenant.password, other)).status == 303


async def test_a_success_resets_the_account_count(client: Client, tenant: Tenant) -> None:
    for _ in range(4):
        await attempt(client, tenant.email, "wrong password")
    assert (await attempt(client, tenant.email, tenant.password)).status == 303
    client.session.cookie_jar.clear()
    for _ in range(5):
        assert (await attempt(client, tenant.email, "wrong password")).status == 401


def test_failure_window_slides() -> None:
    now = [1000.0]
    window = FailureWindow(limit=5, window=60.0, clock=lambda: now[0])
    for _ in range(5):
        assert window.retry_after("a") == 0
        window.add("a")
        now[0] += 1
    assert window.retry_after("a") == pytest.approx(55.0)
    assert window.retry_after("b") == 0
    now[0] += 55.0
    assert window.retry_after("a") == 0
    disabled = FailureWindow(limit=0, window=60.0)
    for _ in range(100):
        disabled.add("a")
    assert disabled.retry_after("a") == 0


async def test_password_change_is_throttled_too(client: Client, tenant: Tenant) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    form = {"new_password": "n" * 12, "confirm_password": "n" * 12, "csrf_token": csrf}
    for _ in range(5):
        r = await client.post("/account/password", data={**form, "current_password": "bad"})
        assert r.status == 400
    r = await client.post("/account/password", data={**form, "current_password": tenant.password})
    assert r.status == 429
