"""Password hashing with argon2id. Hashing is CPU-heavy (tens of ms) and runs
in a thread so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile

MIN_PASSWORD_LENGTH = 8


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


async def burn_verification(password: str) -> None:
    """Spend as long as a real verification, so a login for an unknown email
    takes as long as one with a wrong password (no user enumeration by timing)."""
    await verify_password(await asyncio.to_thread(_dummy_hash), password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
