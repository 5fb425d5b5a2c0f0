"""Organisations, users, sites and API tokens: the domain operations behind the
CLI, the demo and the tests. Functions take an AsyncSession; callers commit."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts.origins import normalise_origin
from replay_server.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from replay_server.accounts.site_settings import DEFAULT_SITE_SETTINGS as DEFAULT_SITE_SETTINGS
from replay_server.accounts.site_settings import validate_settings
from replay_server.accounts.tokens import issue_api_token
from replay_server.db.models import Membership, Organisation, Site, User
from replay_server.db.principal import ROLES
from replay_server.errors import NotFound, ReplayError
from replay_server.timeutil import now_ms

SITE_KEY_PREFIX = "pk_"
MAX_USER_NAME = 200


def normalise_email(email: str) -> str:
    """E-mail addresses are compared as entered, less surrounding space and case."""
    return email.strip().lower()


class AccountError(ReplayError):
    """An account operation was asked something invalid (bad origin, taken email...)."""

    code = "invalid_account"


def site_snippet(public_url: str, site_key: str) -> str:
    """The script tag a site owner adds to their pages (DESIGN.md section 5)."""
    return f'<script src="{public_url}/recorder.js" data-site-key="{site_key}" async></script>'


def _check_name(kind: str, name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError(f"{kind} name must be 1 to 200 characters")
    return name


async def find_organisation(db: AsyncSession, name: str) -> Organisation | None:
    return await db.scalar(select(Organisation).where(Organisation.name == name.strip()))


async def ensure_organisation(db: AsyncSession, name: str) -> Organisation:
    """The organisation called `name`, created if missing."""
    org = await find_organisation(db, name)
    if org is None:
        org = Organisation(name=_check_name("organisation", name), created_ms=now_ms())
        db.add(org)
        await db.flush()
    return org


async def find_user(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == normalise_email(email)))


async def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return await hash_password(password)


def check_email(email: str) -> str:
    """The address normalised; AccountError when it cannot be one."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or any(ch.isspace() for ch in email):
        raise AccountError(f"invalid email address {email!r}")
    return email


def check_user_name(name: str) -> str:
    """A user's name is optional: at most 200 printable characters."""
    name = name.strip()
    if len(name) > MAX_USER_NAME or any(ord(ch) < 0x20 for ch in name):
        raise AccountError(f"the name must be at most {MAX_USER_NAME} printable characters")
    return name


async def create_user(
    db: AsyncSession, email: str, password: str, *, org_id: int, role: str, name: str = ""
) -> User:
    email = check_email(email)
    name = check_user_name(name)
    if await find_user(db, email) is not None:
        raise AccountError(f"a user with email {email} already exists")
    user = User(
        email=email, name=name, password_hash=await _password_hash(password), created_ms=now_ms()
    )
    db.add(user)
    await db.flush()
    await set_membership(db, user.id, org_id, role)
    return user


async def update_profile(db: AsyncSession, user: User, *, email: str, name: str) -> None:
    """The user's own e-mail and name (caller commits)."""
    email, name = check_email(email), check_user_name(name)
    if email != user.email and await find_user(db, email) is not None:
        raise AccountError(f"{email} cannot be used")
    user.email, user.name = email, name
    await db.flush()


async def set_password(db: AsyncSession, user: User, password: str) -> None:
    user.password_hash = await _password_hash(password)
    await db.flush()


async def set_membership(db: AsyncSession, user_id: int, org_id: int, role: str) -> None:
    """Give the user `role` in the organisation (a user may belong to several)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    membership = await db.get(Membership, (user_id, org_id))
    if membership is None:
        db.add(Membership(user_id=user_id, org_id=org_id, role=role))
    else:
        membership.role = role
    await db.flush()


async def create_site(
    db: AsyncSession,
    org_id: int,
    name: str,
    origins: list[str],
    settings: dict[str, Any] | None = None,
) -> Site:
    normalised = list(dict.fromkeys(normalise_origin(o) for o in origins))
    if not normalised:
        raise AccountError("a site needs at least one allowed origin")
    site = Site(
        org_id=org_id,
        name=_check_name("site", name),
        public_key=new_site_key(),
        allowed_origins=normalised,
        settings=validate_settings(settings or {}, DEFAULT_SITE_SETTINGS),
        created_ms=now_ms(),
    )
    db.add(site)
    await db.flush()
    return site


def new_site_key() -> str:
    return SITE_KEY_PREFIX + secrets.token_urlsafe(24)


async def rotate_site_key(db: AsyncSession, site: Site) -> str:
    """Give the site a new public key (caller commits); return the old one, which
    the caller must make the ingest path forget (SiteDirectory.forget)."""
    old_key = site.public_key
    site.public_key = new_site_key()
    await db.flush()
    return old_key


async def create_api_token(db: AsyncSession, email: str, name: str = "") -> tuple[str, User]:
    """A new API token for the user with this email: (token in clear, user)."""
    user = await find_user(db, email)
    if user is None:
        raise NotFound(f"no user with email {normalise_email(email)}")
    return await issue_api_token(db, user.id, name), user
