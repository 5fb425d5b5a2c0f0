"""Dashboard logins: a random token in the HttpOnly, SameSite=Lax cookie
`rs_login`; the `login_sessions` table keeps its SHA-256 and expiry."""

from __future__ import annotations

import secrets

from aiohttp import web
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server import keys
from replay_server.accounts.orgs import normalise_email
from replay_server.accounts.passwords import (
    burn_verification,
    hash_password,
    needs_rehash,
    verify_password,
)
from replay_server.accounts.tokens import sha256_hex
from replay_server.auth.throttle import LoginThrottle
from replay_server.db.models import LoginSession, User
from replay_server.db.principal import Principal, load_principal
from replay_server.proxies import request_is_secure
from replay_server.timeutil import now_ms

LOGIN_COOKIE = "rs_login"
DAY_MS = 86_400_000


async def authenticate(db: AsyncSession, email: str, password: str) -> User | None:
    """The user with these credentials, or None. Upgrades an outdated hash."""
    user = await db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        await burn_verification(password)
        return None
    if not await verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        new_hash = await hash_password(password)
        await db.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
    return user


async def throttled_authenticate(
    throttle: LoginThrottle, db: AsyncSession, email: str, password: str, ip: str | None
) -> User | None:
    """authenticate() behind the brute-force limits: raises ThrottledLogin (429)
    while this address may not try this account (auth/throttle.py); counts a failure."""
    account = normalise_email(email)
    throttle.check(account, ip)
    user = await authenticate(db, email, password) if account and password else None
    if user is None:
        throttle.failed(account, ip)
    else:
        throttle.succeeded(account, ip)
    return user


async def end_other_logins(db: AsyncSession, user_id: int, keep_token: str | None) -> None:
    """End every login of the user but `keep_token`'s (after a password change)."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_token is not None:
        stmt = stmt.where(LoginSession.token_hash != sha256_hex(keep_token))
    await db.execute(stmt)


async def start_login(db: AsyncSession, user_id: int, lifetime_days: int) -> str:
    """Create a login session (caller commits); return the cookie value."""
    token = secrets.token_urlsafe(32)
    now = now_ms()
    await db.execute(
        delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.expires_ms <= now)
    )
    db.add(
        LoginSession(
            token_hash=sha256_hex(token),
            user_id=user_id,
            created_ms=now,
            expires_ms=now + lifetime_days * DAY_MS,
        )
    )
    await db.flush()
    return token


async def principal_for_login(db: AsyncSession, token: str) -> Principal | None:
    row = (
        await db.execute(
            select(User)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == sha256_hex(token), LoginSession.expires_ms > now_ms())
        )
    ).scalar_one_or_none()
    return None if row is None else await load_principal(db, row)


async def end_login(db: AsyncSession, token: str) -> None:
    await db.execute(delete(LoginSession).where(LoginSession.token_hash == sha256_hex(token)))


def set_private_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int
) -> None:
    """HttpOnly, SameSite=Lax, path /; Secure when the request came over https."""
    secure = request_is_secure(request, request.app[keys.SETTINGS].trusted_proxies)
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="Lax", secure=secure
    )


def set_login_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    days = request.app[keys.SETTINGS].login_cookie_days
    set_private_cookie(response, request, LOGIN_COOKIE, token, days * 86_400)


def clear_login_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(LOGIN_COOKIE, path="/")
