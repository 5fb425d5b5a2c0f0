"""API tokens (accounts/tokens.py) on a real database: only the hash is kept,
a token finds its user until revoked, last use is written at most once a
minute, and one user cannot revoke another's token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from replay_server.accounts.tokens import (
    TOKEN_PREFIX,
    issue_api_token,
    list_api_tokens,
    principal_for_api_token,
    revoke_api_token,
    revoke_api_token_value,
    sha256_hex,
)
from replay_server.db.engine import SessionFactory
from replay_server.db.models import ApiToken
from replay_server.errors import NotFound
from tests.conftest import Tenant


async def test_only_the_hash_is_stored_and_the_token_finds_its_user(
    db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s, s.begin():
        token = await issue_api_token(s, tenant.user_id, "ci")
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 43
    async with db() as s, s.begin():
        hashes = list(await s.scalars(select(ApiToken.token_hash)))
        principal = await principal_for_api_token(s, token)
    assert sha256_hex(token) in hashes and token not in hashes
    assert principal is not None and principal.user_id == tenant.user_id
    async with db() as s, s.begin():
        assert await principal_for_api_token(s, token[:-1] + "x") is None
        assert await principal_for_api_token(s, "not-a-token") is None


async def test_last_use_is_written_once_a_minute(db: SessionFactory, tenant: Tenant) -> None:
    async with db() as s, s.begin():
        await principal_for_api_token(s, tenant.token)
    async with db() as s:
        [row] = await list_api_tokens(s, tenant.user_id)
    first = row.last_used_ms
    assert first is not None
    async with db() as s, s.begin():
        await principal_for_api_token(s, tenant.token)
    async with db() as s:
        [row] = await list_api_tokens(s, tenant.user_id)
    assert row.last_used_ms == first


async def test_a_revoked_token_finds_no_one(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant
) -> None:
    async with db() as s:
        [mine] = await list_api_tokens(s, tenant.user_id)
    async with db() as s, s.begin():
        with pytest.raises(NotFound):
            await revoke_api_token(s, other_tenant.user_id, mine.id)  # not theirs
    async with db() as s, s.begin():
        assert await principal_for_api_token(s, tenant.token) is not None
        await revoke_api_token(s, tenant.user_id, mine.id)
        await revoke_api_token(s, tenant.user_id, mine.id)  # twice is fine
    async with db() as s, s.begin():
        assert await principal_for_api_token(s, tenant.token) is None
        revoked = await revoke_api_token_value(s, other_tenant.token + "\n")
        assert revoked.revoked_ms is not None
        assert await principal_for_api_token(s, other_tenant.token) is None
        with pytest.raises(NotFound):
            await revoke_api_token_value(s, "rs_unknown")


async def test_tokens_are_listed_newest_first(db: SessionFactory, tenant: Tenant) -> None:
    async with db() as s, s.begin():
        await issue_api_token(s, tenant.user_id, "second")
    async with db() as s:
        names = [t.name for t in await list_api_tokens(s, tenant.user_id)]
    assert names == ["second", ""]
