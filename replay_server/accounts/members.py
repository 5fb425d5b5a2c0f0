"""Members of an organisation: who they are and removing one. Joining is by
invitation only (accounts/invitations.py): nobody is added to an organisation
without accepting. Every operation checks the acting principal's role
(db.roles); callers commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts.orgs import AccountError
from replay_server.db.models import Membership, Organisation, User
from replay_server.db.principal import ROLES, Principal
from replay_server.db.roles import grantable_roles, require_role
from replay_server.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    role: str


async def list_members(db: AsyncSession, principal: Principal, org_id: int) -> list[Member]:
    require_role(principal, org_id, "admin")
    rows = await db.execute(
        select(User.id, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    )
    return [Member(user_id, email, role) for user_id, email, role in rows]


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
    check_grantable(principal, org_id, membership.role)
    await keep_an_owner(db, org_id, membership.role, None)
    await db.delete(membership)
    await db.flush()
    return Member(user_id, email, membership.role)


def check_grantable(principal: Principal, org_id: int, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role not in grantable_roles(principal, org_id):
        raise Forbidden(f"only an owner can give or take the {role} role", code="insufficient_role")


async def keep_an_owner(db: AsyncSession, org_id: int, old: str, new: str | None) -> None:
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


async def sole_owner_of(db: AsyncSession, user_id: int) -> list[str]:
    """Names of the organisations whose only owner the user is."""
    owned = select(Membership.org_id).where(
        Membership.user_id == user_id, Membership.role == "owner"
    )
    rows = await db.execute(
        select(Organisation.name)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Organisation.id.in_(owned), Membership.role == "owner")
        .group_by(Organisation.id, Organisation.name)
        .having(func.count() == 1)
        .order_by(Organisation.name)
    )
    return [name for (name,) in rows]


async def delete_account(db: AsyncSession, user_id: int) -> None:
    """Delete the user and, by the foreign keys' ON DELETE CASCADE, their
    memberships, logins, API tokens and the invitations they made. Refused
    while they are an organisation's only owner: it would be left unmanaged."""
    sole = await sole_owner_of(db, user_id)
    if sole:
        raise AccountError(
            f"you are the only owner of {', '.join(sole)}: make another member an owner "
            "first (invite them as owner), then delete your account"
        )
    await db.execute(delete(User).where(User.id == user_id))
