"""An organisation's members (admins): list, invite a user with a role (a new
user gets a one-time password shown once, or one the admin sets), remove."""

from __future__ import annotations

from aiohttp import web

from replay_server import keys
from replay_server.accounts.members import Invitation, invite, list_members, remove_member
from replay_server.accounts.orgs import AccountError
from replay_server.api.params import id_in_path
from replay_server.auth.context import require_principal
from replay_server.dashboard.forms import done_flash, read_form
from replay_server.dashboard.render import redirect, render
from replay_server.db import scope
from replay_server.db.roles import grantable_roles

FLASH = {"removed": "Member removed."}


async def _members_page(
    request: web.Request,
    org_id: int,
    *,
    invitation: Invitation | None = None,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        org = await scope.get_organisation(db, principal, org_id, role="admin")
        members = await list_members(db, principal, org_id)
    grantable = grantable_roles(principal, org_id)
    context = {
        "org": {"id": org.id, "name": org.name},
        "members": members,
        "roles": grantable,
        "me": principal.user_id,
        "invitation": invitation,
        "error": error,
        "email": email,
        "flash": done_flash(request, FLASH),
    }
    return render(request, "org_members.html", f"Members · {org.name}", context, status)


async def members_page(request: web.Request) -> web.Response:
    return await _members_page(request, id_in_path(request, "org_id"))


async def invite_member(request: web.Request) -> web.Response:
    """Answers with the page itself: a generated password is shown this once."""
    principal = require_principal(request)
    org_id = id_in_path(request, "org_id")
    form = await read_form(request)
    email, role = form.get("email", "").strip(), form.get("role", "")
    async with request.app[keys.DB]() as db:
        await scope.get_organisation(db, principal, org_id, role="admin")
        try:
            invitation = await invite(db, principal, org_id, email, role, form.get("password", ""))
        except AccountError as e:
            return await _members_page(request, org_id, error=e.message, email=email, status=400)
        await db.commit()
    return await _members_page(request, org_id, invitation=invitation)


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
