"""The signed-in user's own data (docs/privacy.md, "Your own account"): their
e-mail and name (view, edit), organisations, logins (end any), API tokens, and
deleting the account. Changing the e-mail or deleting asks for the password."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server import keys
from replay_server.accounts.members import delete_account, sole_owner_of
from replay_server.accounts.orgs import MAX_USER_NAME, AccountError, update_profile
from replay_server.accounts.tokens import list_api_tokens
from replay_server.auth.context import request_auth, require_principal
from replay_server.auth.login import clear_login_cookie, throttled_authenticate
from replay_server.auth.logins import end_own_login, list_logins
from replay_server.auth.throttle import ThrottledLogin
from replay_server.dashboard.display import started_display
from replay_server.dashboard.forms import done_flash, read_form
from replay_server.dashboard.render import redirect, render
from replay_server.db import scope
from replay_server.db.models import User
from replay_server.db.principal import Principal
from replay_server.proxies import client_ip

FLASH = {"profile": "Your details were saved.", "ended": "That sign-in was ended."}


class WrongPassword(AccountError):
    pass


async def _page(
    request: web.Request,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    principal = require_principal(request)
    auth = request_auth(request)
    async with request.app[keys.DB]() as db:
        user = await db.get(User, principal.user_id)
        assert user is not None  # the principal was loaded from it in this request
        orgs = await scope.list_organisations(db, principal)
        logins = await list_logins(db, principal.user_id, auth.login_token)
        tokens = await list_api_tokens(db, principal.user_id)
        sole = await sole_owner_of(db, principal.user_id)
    form = form or {}
    context: dict[str, Any] = {
        "email": form.get("email", user.email),
        "name": form.get("name", user.name),
        "created": started_display(user.created_ms),
        "orgs": orgs,
        "logins": [
            {
                "id": x.id,
                "created": started_display(x.created_ms),
                "expires": started_display(x.expires_ms),
                "current": x.current,
            }
            for x in logins
        ],
        "tokens": [
            {
                "name": t.name,
                "created": started_display(t.created_ms),
                "last_used": None if t.last_used_ms is None else started_display(t.last_used_ms),
                "revoked": t.revoked_ms is not None,
            }
            for t in tokens
        ],
        "sole_owner_of": sole,
        "max_name": MAX_USER_NAME,
        "error": error,
        "flash": done_flash(request, FLASH),
    }
    return render(request, "account.html", "Your account", context, status)


async def account_page(request: web.Request) -> web.Response:
    return await _page(request)


async def _check_password(
    request: web.Request, db: AsyncSession, principal: Principal, password: str
) -> User:
    """The user, when `password` is theirs (behind the login throttle)."""
    throttle = request.app[keys.LOGIN_THROTTLE]
    ip = client_ip(request, request.app[keys.SETTINGS].trusted_proxies)
    user = await throttled_authenticate(throttle, db, principal.email, password, ip)
    if user is None or user.id != principal.user_id:
        raise WrongPassword("The current password is wrong.")
    return user


async def update(request: web.Request) -> web.Response:
    principal = require_principal(request)
    form = await read_form(request)
    async with request.app[keys.DB]() as db:
        try:
            user = await db.get(User, principal.user_id)
            assert user is not None
            email = form.get("email", "").strip().lower()
            if email != user.email:
                user = await _check_password(request, db, principal, form.get("password", ""))
            await update_profile(db, user, email=email, name=form.get("name", ""))
        except ThrottledLogin as e:
            return await _refused(request, e.message, 429, form, e.retry_after_seconds)
        except AccountError as e:
            return await _refused(request, _sentence(e.message), 400, form)
        await db.commit()
    return redirect("/account?done=profile")


async def end_login(request: web.Request) -> web.Response:
    principal = require_principal(request)
    login_id = (await read_form(request)).get("login", "")
    async with request.app[keys.DB]() as db:
        await end_own_login(db, principal.user_id, login_id)
        await db.commit()
    return redirect("/account?done=ended")


async def delete(request: web.Request) -> web.Response:
    principal = require_principal(request)
    form = await read_form(request)
    async with request.app[keys.DB]() as db:
        try:
            await _check_password(request, db, principal, form.get("password", ""))
            await delete_account(db, principal.user_id)
        except ThrottledLogin as e:
            return await _refused(request, e.message, 429, None, e.retry_after_seconds)
        except AccountError as e:
            return await _refused(request, _sentence(e.message), 400, None)
        await db.commit()
    response = redirect("/login")
    clear_login_cookie(response)
    return response


async def _refused(
    request: web.Request,
    message: str,
    status: int,
    form: dict[str, str] | None,
    retry_after: int | None = None,
) -> web.Response:
    response = await _page(request, error=message, form=form, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
