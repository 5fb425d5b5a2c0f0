"""Who is asking: a user and the organisations they belong to, with their role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.models import Membership, User

ROLES = ("owner", "admin", "viewer")


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    memberships: dict[int, str]  # org_id -> role

    @property
    def org_ids(self) -> list[int]:
        return sorted(self.memberships)


async def load_principal(db: AsyncSession, user: User) -> Principal:
    rows = await db.execute(
        select(Membership.org_id, Membership.role).where(Membership.user_id == user.id)
    )
    return Principal(
        user_id=user.id,
        email=user.email,
        memberships={org_id: role for org_id, role in rows},
    )
