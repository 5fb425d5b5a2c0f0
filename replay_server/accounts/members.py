"""Members of an organisation: who they are, inviting (creating) a user with a
role, and removing one. Every operation checks the acting principal's role
(auth.roles); callers commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts.orgs import AccountError, create_user, find_user, set_membership
from replay_server.db.models import Membership, User
from replay_server.db.principal import ROLES, Principal
from replay_server.db.roles import grantable_roles, require_role
from replay_server.errors import Forbidden, NotFound

ONE_TIME_PASSWORD_BYTES = 12  # 16 URL-safe characters


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    role: str


@dataclass(frozen=True)
class Invitation:
    email: str
    role: str
    created: bool  # a new user (else an existing user joined or changed role)
    one_time_password: str | None  # generated for a new user, to hand over once


async def list_members(db: AsyncSession, principal: Principal, org_id: int) -> list[Member]:
    require_role(principal, org_id, "admin")
    rows = await db.execute(
        select(User.id, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    )
    return [Member(user_id, email, role) for user_id, email, role in rows]


async def invite(
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    email: str,
    role: str,
    password: str = "",
) -> Invitation:
    """Create the user with `role` in the organisation (with `password`, or a
    generated one-time password), or give an existing user that role there."""
    require_role(principal, org_id, "admin")
    _check_grantable(principal, org_id, role)
    user = await find_user(db, email)
    if user is None:
        one_time = None if password else secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
        user = await create_user(db, email, password or str(one_time), org_id=org_id, role=role)
        return Invitation(user.email, role, True, one_time)
    if password:
        raise AccountError(
            f"{user.email} already has an account: leave the password empty to add them"
        )
    current = await db.get(Membership, (user.id, org_id))
    if current is not None:
        _check_grantable(principal, org_id, current.role)
        await _keep_an_owner(db, org_id, current.role, role)
    await set_membership(db, user.id, org_id, role)
    return Invitation(user.email, role, False, None)


async def remove_member(
    db: AsyncSession, principal: Principal, org_id: int, user_id: int
) -> Member:
    require_role(principal, org_id, "admin")
    row = (
        await db.execute(
            select(Membership, User.email)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id, Membership.user_id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("member not found")
    membership, email = row
    _check_grantable(principal, org_id, membership.role)
    await _keep_an_owner(db, org_id, membership.role, None)
    await db.delete(membership)
    await db.flush()
    return Member(user_id, email, membership.role)


def _check_grantable(principal: Principal, org_id: int, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role not in grantable_roles(principal, org_id):
        raise Forbidden(f"only an owner can give or take the {role} role", code="insufficient_role")


async def _keep_an_owner(db: AsyncSession, org_id: int, old: str, new: str | None) -> None:
    """An organisation never loses its last owner."""
    if old != "owner" or new == "owner":
        return
    owners = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == "owner")
    )
    if (owners or 0) <= 1:
        raise AccountError("an organisation needs at least one owner")
