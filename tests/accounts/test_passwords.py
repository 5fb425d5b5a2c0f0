"""Password hashing: argon2id, a wrong password or a bad hash is simply False,
and the dummy verification for unknown emails answers False too."""

from __future__ import annotations

from argon2 import PasswordHasher

from replay_server.accounts.passwords import (
    burn_verification,
    hash_password,
    needs_rehash,
    verify_password,
)


async def test_hashes_are_salted_argon2id_and_verify() -> None:
    first, second = await hash_password("s3cret pass"), await hash_password("s3cret pass")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert await verify_password(second, "s3cret pass")
    assert not await verify_password(first, "s3cret pas")
    assert not await verify_password("", "s3cret pass")
    assert not needs_rehash(first)


async def test_a_weaker_hash_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert await verify_password(weak, "pw")
    assert needs_rehash(weak)


async def test_burning_a_verification_raises_nothing() -> None:
    await burn_verification("anything")
