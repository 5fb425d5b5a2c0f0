"""A user's own dashboard logins, for their account page: list them and end
one. A login is named by the SHA-256 of its cookie (what the table keeps): it
identifies the login to its owner and authenticates nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts.tokens import sha256_hex
from replay_server.db.models import LoginSession
from replay_server.errors import NotFound
from replay_server.timeutil import now_ms


@dataclass(frozen=True)
class Login:
    id: str  # the token's SHA-256
    created_ms: int
    expires_ms: int
    current: bool  # the login of the request asking


async def list_logins(db: AsyncSession, user_id: int, current_token: str | None) -> list[Login]:
    """The user's unexpired logins, newest first."""
    current = None if current_token is None else sha256_hex(current_token)
    rows = await db.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.expires_ms > now_ms())
        .order_by(LoginSession.created_ms.desc(), LoginSession.token_hash)
    )
    return [
        Login(row.token_hash, row.created_ms, row.expires_ms, row.token_hash == current)
        for row in rows
    ]


async def end_own_login(db: AsyncSession, user_id: int, login_id: str) -> None:
    """End one of the user's logins (caller commits); another user's is NotFound."""
    result = await db.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.token_hash == login_id
        )
    )
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound("sign-in not found")
