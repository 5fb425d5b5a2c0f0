"""Accepting an invitation link (public: the invitee may have no account yet).
Signed out, the page offers both ways without saying which applies: sign in
as the invited address, or create the account with a password of one's own.
Signed in as that address: a button to join. The link's token is never put in
another URL than its own (the login's `next` is the page itself)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from replay_server import keys
from replay_server.accounts.invitations import (
    InvitationView,
    accept_as_member,
    accept_as_new_user,
    view_invitation,
)
from replay_server.accounts.orgs import AccountError
from replay_server.accounts.passwords import MIN_PASSWORD_LENGTH
from replay_server.auth.context import get_principal, require_principal
from replay_server.auth.login import set_login_cookie, start_login
from replay_server.dashboard.display import started_display
from replay_server.dashboard.forms import read_form
from replay_server.dashboard.render import redirect, render
from replay_server.errors import NotFound


def _token(request: web.Request) -> str:
    return request.match_info["token"]


def _page(
    request: web.Request,
    view: InvitationView | None,
    *,
    error: str | None = None,
    name: str = "",
    status: int = 200,
) -> web.Response:
    principal = get_principal(request)
    context: dict[str, Any] = {
        "invitation": None,
        "error": error,
        "name": name,
        "min_length": MIN_PASSWORD_LENGTH,
    }
    if view is not None:
        path = f"/invitations/{_token(request)}"
        context["invitation"] = {
            "org": view.org_name,
            "email": view.email,
            "role": view.role,
            "expires": started_display(view.expires_ms),
            "path": path,
            "login": "/login?" + urlencode({"next": path}),
            "signed_in_as": None if principal is None else principal.email,
            "is_invitee": principal is not None and principal.email == view.email,
        }
    response = render(request, "invitation.html", "Invitation", context, status)
    # The token is in this page's URL: no Referer with it, anywhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _view(request: web.Request) -> InvitationView | None:
    async with request.app[keys.DB]() as db:
        try:
            return await view_invitation(db, _token(request))
        except NotFound:
            return None


async def invitation_page(request: web.Request) -> web.Response:
    view = await _view(request)
    if view is None:
        return _page(request, None, status=404)
    return _page(request, view)


async def accept(request: web.Request) -> web.Response:
    """The signed-in invitee joins the organisation."""
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        try:
            await accept_as_member(db, _token(request), principal)
        except NotFound:
            return _page(request, None, status=404)
        except AccountError as e:
            return _page(request, await _view(request), error=e.message, status=400)
        await db.commit()
    return redirect("/")


async def create_account(request: web.Request) -> web.Response:
    """A new user: their own password (and name), then signed in as a member."""
    view = await _view(request)
    if view is None:
        return _page(request, None, status=404)
    form = await read_form(request)
    name, password = form.get("name", ""), form.get("password", "")
    if get_principal(request) is not None:
        return _page(request, view, error="Sign out first.", name=name, status=400)
    if password != form.get("confirm_password", ""):
        return _page(request, view, error="The passwords do not match.", name=name, status=400)
    async with request.app[keys.DB]() as db:
        try:
            user = await accept_as_new_user(db, _token(request), name, password)
        except NotFound:
            return _page(request, None, status=404)
        except AccountError as e:
            return _page(request, view, error=e.message.capitalize() + ".", name=name, status=400)
        token = await start_login(db, user.id, request.app[keys.SETTINGS].login_cookie_days)
        await db.commit()
    response = redirect("/")
    set_login_cookie(response, request, token)
    return response
