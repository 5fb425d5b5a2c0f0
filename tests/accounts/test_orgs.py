"""Organisations, users and sites (accounts/orgs.py) on a real database:
names and addresses checked and normalised, one user per address, roles
validated, sites with normalised origins and a key that rotates."""

from __future__ import annotations

import pytest

from replay_server.accounts.orgs import (
    SITE_KEY_PREFIX,
    AccountError,
    check_email,
    check_user_name,
    create_api_token,
    create_site,
    create_user,
    ensure_organisation,
    find_user,
    rotate_site_key,
    set_membership,
    site_snippet,
    update_profile,
)
from replay_server.accounts.passwords import verify_password
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Membership
from replay_server.errors import NotFound
from tests.conftest import Tenant


def test_addresses_and_names_are_checked() -> None:
    assert check_email("  Jane@Example.ORG ") == "jane@example.org"
    for bad in ("no-at-sign", "a b@example.org", "x@" + "y" * 320):
        with pytest.raises(AccountError):
            check_email(bad)
    assert check_user_name("  Jane ") == "Jane"
    with pytest.raises(AccountError):
        check_user_name("Jane\x00")
    assert 'data-site-key="pk_x"' in site_snippet("https://replay.test", "pk_x")


async def test_an_organisation_is_created_once(db: SessionFactory) -> None:
    async with db() as s, s.begin():
        first = await ensure_organisation(s, " Acme ")
        again = await ensure_organisation(s, "Acme")
        assert first.id == again.id and first.name == "Acme"
        with pytest.raises(AccountError):
            await ensure_organisation(s, "   ")


async def test_one_user_per_address_with_a_checked_password_and_role(
    db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s, s.begin():
        with pytest.raises(AccountError, match="already exists"):
            await create_user(s, "ALICE@example.com", "long enough pw", org_id=1, role="viewer")
        with pytest.raises(AccountError, match="password"):
            await create_user(s, "new@example.com", "short", org_id=tenant.org_id, role="viewer")
        with pytest.raises(AccountError, match="role"):
            await set_membership(s, tenant.user_id, tenant.org_id, "emperor")
        user = await find_user(s, " Alice@Example.com")
        assert user is not None and user.id == tenant.user_id
        assert await verify_password(user.password_hash, tenant.password)
        await set_membership(s, tenant.user_id, tenant.org_id, "viewer")
        membership = await s.get(Membership, (tenant.user_id, tenant.org_id))
        assert membership is not None and membership.role == "viewer"


async def test_a_profile_cannot_take_anothers_address(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant
) -> None:
    async with db() as s, s.begin():
        user = await find_user(s, tenant.email)
        assert user is not None
        with pytest.raises(AccountError, match="cannot be used"):
            await update_profile(s, user, email=other_tenant.email, name="")
        await update_profile(s, user, email="Alice.New@example.com", name=" Alice ")
        assert (user.email, user.name) == ("alice.new@example.com", "Alice")


async def test_a_site_has_normalised_origins_and_a_rotating_key(
    db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s, s.begin():
        site = await create_site(
            s, tenant.org_id, "Shop", ["https://Shop.example/", "https://shop.example"]
        )
        assert site.allowed_origins == ["https://shop.example"]
        assert site.public_key.startswith(SITE_KEY_PREFIX)
        old = await rotate_site_key(s, site)
        assert old != site.public_key and site.public_key.startswith(SITE_KEY_PREFIX)
        with pytest.raises(AccountError, match="origin"):
            await create_site(s, tenant.org_id, "Empty", [])


async def test_a_token_needs_a_known_user(db: SessionFactory, tenant: Tenant) -> None:
    async with db() as s, s.begin():
        token, user = await create_api_token(s, tenant.email.upper(), "cli")
        assert user.id == tenant.user_id and token != tenant.token
        with pytest.raises(NotFound):
            await create_api_token(s, "nobody@example.com")
