"""Roles, enforced in one place. A user holds one role per organisation:

- owner: everything, including granting the owner role;
- admin: manage the organisation's sites (settings, keys) and users, delete data;
- viewer: support staff: search and watch sessions only.

`require_role(principal, org_id, "admin")` is the check every handler that
changes something uses (directly or through db.scope). Not a member of the
organisation at all: NotFound, exactly like an id that does not exist (no
existence leak). A member whose role is too low: Forbidden (403).
"""

from __future__ import annotations

from typing import Literal

from replay_server.db.principal import ROLES, Principal
from replay_server.errors import Forbidden, NotFound

Role = Literal["owner", "admin", "viewer"]
_RANK: dict[str, int] = {"viewer": 0, "admin": 1, "owner": 2}
assert set(_RANK) == set(ROLES)


def role_at_least(role: str | None, minimum: Role) -> bool:
    return role is not None and _RANK.get(role, -1) >= _RANK[minimum]


def has_role(principal: Principal, org_id: int, minimum: Role) -> bool:
    """True when the principal holds `minimum` (or a higher role) in the organisation."""
    return role_at_least(principal.memberships.get(org_id), minimum)


def require_role(
    principal: Principal, org_id: int, minimum: Role, *, what: str = "organisation"
) -> None:
    """Raise NotFound (`{what} not found`) for a non-member, Forbidden for a member
    below `minimum`; return quietly otherwise."""
    role = principal.memberships.get(org_id)
    if role is None:
        raise NotFound(f"{what} not found")
    if not role_at_least(role, minimum):
        raise Forbidden(
            f"your role ({role}) does not allow this; it needs {minimum} or higher",
            code="insufficient_role",
        )


def grantable_roles(principal: Principal, org_id: int) -> tuple[Role, ...]:
    """The roles this principal may give (or take) in the organisation: owners
    any role, admins admin and viewer, viewers none."""
    if has_role(principal, org_id, "owner"):
        return ("owner", "admin", "viewer")
    if has_role(principal, org_id, "admin"):
        return ("admin", "viewer")
    return ()
