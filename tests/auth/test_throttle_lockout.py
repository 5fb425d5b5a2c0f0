"""Nobody can lock an account out (issue 14 item 6): failures slow the address
they come from; a distributed attack on one account is still slowed; the right
password from an address that never failed keeps working."""

from __future__ import annotations

import pytest
from aiohttp import web

from replay_server.app import create_app
from replay_server.auth.throttle import FailureWindow, LoginThrottle, ThrottledLogin
from replay_server.settings import Settings
from tests.auth.test_throttle import attempt
from tests.browser import Client
from tests.conftest import Tenant


@pytest.fixture
def app(migrated_settings: Settings) -> web.Application:
    # Each test's "addresses" are X-Forwarded-For values from the trusted test client.
    return create_app(migrated_settings.replace(trusted_proxies="127.0.0.1"))


def address(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


async def test_the_owner_signs_in_while_an_attacker_hammers_the_account(
    client: Client, tenant: Tenant
) -> None:
    statuses = [
        (await attempt(client, tenant.email, f"guess {i}", address(66))).status for i in range(12)
    ]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # The attacker's address is refused even the right password: guessing gains nothing.
    assert (await attempt(client, tenant.email, tenant.password, address(66))).status == 429
    owner = await attempt(client, tenant.email, tenant.password, address(7))
    assert owner.status == 303 and "rs_login" in owner.cookies


async def test_a_distributed_attack_is_slowed_but_the_owner_is_not(
    client: Client, tenant: Tenant
) -> None:
    # One guess each from many addresses: beyond the account's limit (10), every
    # address that has failed on the account is refused...
    for n in range(10):
        assert (await attempt(client, tenant.email, "guess", address(100 + n))).status == 401
    assert (await attempt(client, tenant.email, "guess", address(100))).status == 429
    assert (await attempt(client, tenant.email, tenant.password, address(105))).status == 429
    # ...a new address gets its one guess and no more...
    assert (await attempt(client, tenant.email, "guess", address(120))).status == 401
    assert (await attempt(client, tenant.email, "guess", address(120))).status == 429
    # ...and the owner, who never failed, signs in.
    assert (await attempt(client, tenant.email, tenant.password, address(7))).status == 303


async def test_the_per_address_ceiling_holds_across_accounts(
    client: Client, tenant: Tenant
) -> None:
    for i in range(20):
        assert (await attempt(client, f"u{i}@example.com", "guess", address(66))).status == 401
    assert (await attempt(client, "fresh@example.com", "guess", address(66))).status == 429
    assert (await attempt(client, tenant.email, tenant.password, address(66))).status == 429
    assert (await attempt(client, tenant.email, tenant.password, address(7))).status == 303


def test_an_address_with_failures_waits_only_until_they_expire() -> None:
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    throttle = LoginThrottle(
        FailureWindow(5, 60.0, clock), FailureWindow(20, 60.0, clock), FailureWindow(3, 60.0, clock)
    )
    throttle.failed("a@x", "198.51.100.1")  # the owner mistypes once
    for n in range(3):
        now[0] += 1
        throttle.failed("a@x", f"203.0.113.{n}")  # an attack fills the account's count
    with pytest.raises(ThrottledLogin) as refused:
        throttle.check("a@x", "198.51.100.1")
    assert refused.value.retry_after_seconds == 57  # its own failure expires (at 1060)
    throttle.check("a@x", "198.51.100.2")  # never failed: may try
    now[0] += 60
    throttle.check("a@x", "198.51.100.1")
