"""An organisation's members (admins): list and remove members; invite by a
link the invitee accepts (shown once, the same answer whatever the address),
list and revoke pending invitations."""

from __future__ import annotations

from aiohttp import web

from replay_server import keys
from replay_server.accounts.invitations import (
    INVITATION_DAYS,
    create_invitation,
    list_invitations,
    revoke_invitation,
)
from replay_server.accounts.members import list_members, remove_member
from replay_server.accounts.orgs import AccountError
from replay_server.api.params import id_in_path
from replay_server.auth.context import require_principal
from replay_server.dashboard.display import started_display
from replay_server.dashboard.forms import done_flash, read_form
from replay_server.dashboard.render import redirect, render
from replay_server.db import scope
from replay_server.db.roles import grantable_roles

FLASH = {"removed": "Member removed.", "revoked": "Invitation revoked."}


async def _members_page(
    request: web.Request,
    org_id: int,
    *,
    link: str | None = None,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        org = await scope.get_organisation(db, principal, org_id, role="admin")
        members = await list_members(db, principal, org_id)
        pending = await list_invitations(db, principal, org_id)
    grantable = grantable_roles(principal, org_id)
    context = {
        "org": {"id": org.id, "name": org.name},
        "members": members,
        "invitations": [
            {
                "id": i.id,
                "email": i.email,
                "role": i.role,
                "inviter": i.inviter_email,
                "expires": started_display(i.expires_ms),
            }
            for i in pending
        ],
        "roles": grantable,
        "me": principal.user_id,
        "link": link,
        "days": INVITATION_DAYS,
        "error": error,
        "email": email,
        "flash": done_flash(request, FLASH),
    }
    return render(request, "org_members.html", f"Members · {org.name}", context, status)


async def members_page(request: web.Request) -> web.Response:
    return await _members_page(request, id_in_path(request, "org_id"))


async def invite_member(request: web.Request) -> web.Response:
    """Answers with the page itself: the link is shown this once. The answer is
    the same whether or not the address has an account (here or elsewhere)."""
    principal = require_principal(request)
    org_id = id_in_path(request, "org_id")
    form = await read_form(request)
    email, role = form.get("email", "").strip(), form.get("role", "")
    async with request.app[keys.DB]() as db:
        await scope.get_organisation(db, principal, org_id, role="admin")
        try:
            token = await create_invitation(db, principal, org_id, email, role)
        except AccountError as e:
            return await _members_page(request, org_id, error=e.message, email=email, status=400)
        await db.commit()
    public_url = request.app[keys.SETTINGS].effective_public_url
    return await _members_page(request, org_id, link=f"{public_url}/invitations/{token}")


async def revoke(request: web.Request) -> web.Response:
    principal = require_principal(request)
    org_id, invitation_id = id_in_path(request, "org_id"), id_in_path(request, "invitation_id")
    async with request.app[keys.DB]() as db:
        await scope.get_organisation(db, principal, org_id, role="admin")
        await revoke_invitation(db, principal, org_id, invitation_id)
        await db.commit()
    return redirect(f"/orgs/{org_id}/members?done=revoked")


async def remove(request: web.Request) -> web.Response:
    principal = require_principal(request)
    org_id, user_id = id_in_path(request, "org_id"), id_in_path(request, "user_id")
    async with request.app[keys.DB]() as db:
        await scope.get_organisation(db, principal, org_id, role="admin")
        try:
            await remove_member(db, principal, org_id, user_id)
        except AccountError as e:
            return await _members_page(request, org_id, error=e.message, status=400)
        await db.commit()
    return redirect(f"/orgs/{org_id}/members?done=removed")
