"""API tokens: `rs_` + 43 random URL-safe characters, shown once; the database
keeps only their SHA-256, so a leaked table does not leak tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.models import ApiToken, User
from replay_server.db.principal import Principal, load_principal
from replay_server.errors import NotFound
from replay_server.timeutil import now_ms

TOKEN_PREFIX = "rs_"
LAST_USED_RESOLUTION_MS = 60_000  # last_used_ms is written at most once a minute


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def issue_api_token(db: AsyncSession, user_id: int, name: str = "") -> str:
    """Store a new token for the user (caller commits) and return it in clear."""
    token = new_api_token()
    db.add(ApiToken(user_id=user_id, token_hash=sha256_hex(token), name=name, created_ms=now_ms()))
    await db.flush()
    return token


MAX_TOKEN_NAME = 200


async def list_api_tokens(db: AsyncSession, user_id: int) -> list[ApiToken]:
    """The user's tokens (never their values), newest first, revoked ones included."""
    rows = await db.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_ms.desc(), ApiToken.id.desc())
    )
    return list(rows.all())


async def revoke_api_token(db: AsyncSession, user_id: int, token_id: int) -> None:
    """Revoke one of the user's own tokens (caller commits). Another user's
    token id is NotFound, like one that does not exist. Revoking twice is fine."""
    token = await db.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if token is None:
        raise NotFound("token not found")
    if token.revoked_ms is None:
        token.revoked_ms = now_ms()
        await db.flush()


async def revoke_api_token_value(db: AsyncSession, token: str) -> ApiToken:
    """Revoke a token given in clear (the CLI); NotFound when unknown."""
    row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(token.strip())))
    if row is None:
        raise NotFound("no such API token")
    if row.revoked_ms is None:
        row.revoked_ms = now_ms()
        await db.flush()
    return row


async def principal_for_api_token(db: AsyncSession, token: str) -> Principal | None:
    """The token's user, or None for an unknown or revoked token. May write
    last_used_ms (caller commits)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        await db.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == sha256_hex(token), ApiToken.revoked_ms.is_(None))
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    now = now_ms()
    if api_token.last_used_ms is None or now - api_token.last_used_ms >= LAST_USED_RESOLUTION_MS:
        await _touch(db, api_token.id, now)
    return await load_principal(db, user)


async def _touch(db: AsyncSession, token_id: int, now: int) -> None:
    # Conditional, so concurrent requests do not all write within the same minute.
    await db.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_ms.is_(None),
                ApiToken.last_used_ms <= now - LAST_USED_RESOLUTION_MS,
            ),
        )
        .values(last_used_ms=now)
    )
