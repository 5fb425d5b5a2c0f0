"""Invitations: the only way into an organisation. An admin creates one for an
e-mail address and a role and gets a link to hand over (the service sends no
e-mail); the invitee accepts it, as a new user choosing their own password or
signed in as that address. Creating one answers the same whether or not the
address has an account anywhere, and touches no account: nobody is added to an
organisation without their consent, and no tenant learns about another's users.

The link holds `ri_` + 43 random URL-safe characters; the table keeps only its
SHA-256. A row is deleted when accepted or revoked and ignored (then purged)
once expired, so a used, revoked or expired link is simply unknown. Callers commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts.members import check_grantable, keep_an_owner
from replay_server.accounts.orgs import (
    AccountError,
    check_email,
    create_user,
    find_user,
    set_membership,
)
from replay_server.accounts.tokens import sha256_hex
from replay_server.db.models import Invitation, Membership, Organisation, User
from replay_server.db.principal import Principal
from replay_server.db.roles import Role, require_role, role_at_least
from replay_server.errors import Forbidden, NotFound
from replay_server.timeutil import now_ms

INVITATION_PREFIX = "ri_"
INVITATION_DAYS = 7
DAY_MS = 86_400_000
INVALID_LINK = "This invitation link is not valid: it has expired, been used or been revoked."


@dataclass(frozen=True)
class PendingInvitation:
    id: int
    email: str
    role: str
    inviter_email: str
    expires_ms: int


@dataclass(frozen=True)
class InvitationView:
    """What the link's holder is shown: never whether the address has an account."""

    org_id: int
    org_name: str
    email: str
    role: str
    expires_ms: int


def new_invitation_token() -> str:
    return INVITATION_PREFIX + secrets.token_urlsafe(32)


async def create_invitation(
    db: AsyncSession, principal: Principal, org_id: int, email: str, role: str
) -> str:
    """Store an invitation and return its token in clear (shown once). Replaces
    a pending invitation of the same address to this organisation."""
    require_role(principal, org_id, "admin")
    check_grantable(principal, org_id, role)
    email = check_email(email)
    # Only this organisation's own members are looked at (its admins see them
    # on the members page): an admin may not demote an owner by invitation.
    current = await db.scalar(
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, User.email == email)
    )
    if current is not None:
        check_grantable(principal, org_id, current)
    await purge_expired(db)
    await db.execute(
        delete(Invitation).where(Invitation.org_id == org_id, Invitation.email == email)
    )
    token = new_invitation_token()
    now = now_ms()
    db.add(
        Invitation(
            org_id=org_id,
            email=email,
            role=role,
            token_hash=sha256_hex(token),
            inviter_id=principal.user_id,
            created_ms=now,
            expires_ms=now + INVITATION_DAYS * DAY_MS,
        )
    )
    await db.flush()
    return token


async def purge_expired(db: AsyncSession) -> None:
    """An expired invitation is useless; its address is not kept any longer."""
    await db.execute(delete(Invitation).where(Invitation.expires_ms <= now_ms()))


async def list_invitations(
    db: AsyncSession, principal: Principal, org_id: int
) -> list[PendingInvitation]:
    require_role(principal, org_id, "admin")
    rows = await db.execute(
        select(Invitation, User.email)
        .join(User, User.id == Invitation.inviter_id)
        .where(Invitation.org_id == org_id, Invitation.expires_ms > now_ms())
        .order_by(Invitation.email, Invitation.id)
    )
    return [
        PendingInvitation(inv.id, inv.email, inv.role, inviter, inv.expires_ms)
        for inv, inviter in rows
    ]


async def revoke_invitation(
    db: AsyncSession, principal: Principal, org_id: int, invitation_id: int
) -> None:
    require_role(principal, org_id, "admin")
    invitation = await db.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.org_id == org_id)
    )
    if invitation is None:
        raise NotFound("invitation not found")
    check_grantable(principal, org_id, invitation.role)
    await db.delete(invitation)
    await db.flush()


async def _valid(db: AsyncSession, token: str) -> Invitation:
    if not token.startswith(INVITATION_PREFIX):
        raise NotFound(INVALID_LINK, code="invalid_invitation")
    invitation = await db.scalar(
        select(Invitation).where(
            Invitation.token_hash == sha256_hex(token), Invitation.expires_ms > now_ms()
        )
    )
    if invitation is None:
        raise NotFound(INVALID_LINK, code="invalid_invitation")
    return invitation


async def view_invitation(db: AsyncSession, token: str) -> InvitationView:
    """The invitation behind a link; NotFound when unknown, used, revoked,
    expired or no longer backed by its inviter."""
    invitation = await _valid(db, token)
    await _check_inviter(db, invitation, None)
    org_name = await db.scalar(
        select(Organisation.name).where(Organisation.id == invitation.org_id)
    )
    return InvitationView(
        invitation.org_id, org_name or "", invitation.email, invitation.role, invitation.expires_ms
    )


async def accept_as_member(db: AsyncSession, token: str, principal: Principal) -> int:
    """The signed-in invitee joins (or takes the invited role); returns the org id."""
    invitation = await _valid(db, token)
    if principal.email != invitation.email:
        raise Forbidden(
            f"this invitation is for another e-mail address; sign in as {invitation.email}",
            code="wrong_account",
        )
    current = await db.get(Membership, (principal.user_id, invitation.org_id))
    await _check_inviter(db, invitation, None if current is None else current.role)
    if current is not None:
        await keep_an_owner(db, invitation.org_id, current.role, invitation.role)
    await _use(db, invitation)
    await set_membership(db, principal.user_id, invitation.org_id, invitation.role)
    return invitation.org_id


async def accept_as_new_user(db: AsyncSession, token: str, name: str, password: str) -> User:
    """A new account for the invited address, with the password its owner
    chooses, member of the organisation. An address that already has an
    account must sign in instead (the link's holder learns that much, and only
    by trying: the service sends no e-mail that could prove who they are)."""
    invitation = await _valid(db, token)
    if await find_user(db, invitation.email) is not None:
        raise AccountError(f"sign in as {invitation.email} to accept this invitation")
    await _check_inviter(db, invitation, None)
    await _use(db, invitation)
    return await create_user(
        db,
        invitation.email,
        password,
        org_id=invitation.org_id,
        role=invitation.role,
        name=name,
    )


async def _check_inviter(db: AsyncSession, invitation: Invitation, current: str | None) -> None:
    """The inviter must still be allowed to give the role (and to change the
    invitee's current one): a demoted or removed admin's invitations lapse."""
    inviter_role = await db.scalar(
        select(Membership.role).where(
            Membership.user_id == invitation.inviter_id, Membership.org_id == invitation.org_id
        )
    )
    minimum: Role = "owner" if "owner" in (invitation.role, current) else "admin"
    if not role_at_least(inviter_role, minimum):
        raise NotFound(INVALID_LINK, code="invalid_invitation")


async def _use(db: AsyncSession, invitation: Invitation) -> None:
    # A conditional delete: of two concurrent acceptances, one wins.
    result = await db.execute(delete(Invitation).where(Invitation.id == invitation.id))
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound(INVALID_LINK, code="invalid_invitation")
