"""The signed-in user's own account: changing the password, and API tokens
(create: shown once; list; revoke). Tokens act with the user's organisations
and roles."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from replay_server import keys
from replay_server.accounts.orgs import AccountError, set_password
from replay_server.accounts.passwords import MIN_PASSWORD_LENGTH
from replay_server.accounts.tokens import (
    MAX_TOKEN_NAME,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from replay_server.api.params import id_in_path
from replay_server.auth.context import request_auth, require_principal
from replay_server.auth.login import end_other_logins, throttled_authenticate
from replay_server.auth.throttle import ThrottledLogin
from replay_server.dashboard.display import started_display
from replay_server.dashboard.forms import done_flash, read_form
from replay_server.dashboard.render import redirect, render
from replay_server.db import scope
from replay_server.db.models import ApiToken
from replay_server.proxies import client_ip
from replay_server.timeutil import iso_utc

PASSWORD_FLASH = {"password": "Password changed. Your other sign-ins were ended."}
TOKEN_FLASH = {"revoked": "Token revoked."}


async def password_page(request: web.Request) -> web.Response:
    require_principal(request)
    return _password_page(request, None)


def _password_page(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    context = {
        "error": error,
        "flash": done_flash(request, PASSWORD_FLASH),
        "min_length": MIN_PASSWORD_LENGTH,
    }
    return render(request, "account_password.html", "Change password", context, status)


async def password_submit(request: web.Request) -> web.Response:
    principal = require_principal(request)
    form = await read_form(request)
    current, new = form.get("current_password", ""), form.get("new_password", "")
    if new != form.get("confirm_password", ""):
        return _password_page(request, "The new passwords do not match.", 400)
    throttle = request.app[keys.LOGIN_THROTTLE]
    ip = client_ip(request, request.app[keys.SETTINGS].trusted_proxies)
    async with request.app[keys.DB]() as db:
        try:
            user = await throttled_authenticate(throttle, db, principal.email, current, ip)
        except ThrottledLogin as e:
            response = _password_page(request, e.message, 429)
            response.headers["Retry-After"] = str(e.retry_after_seconds)
            return response
        if user is None or user.id != principal.user_id:
            return _password_page(request, "The current password is wrong.", 400)
        try:
            await set_password(db, user, new)
        except AccountError as e:
            return _password_page(request, e.message.capitalize() + ".", 400)
        await end_other_logins(db, user.id, request_auth(request).login_token)
        await db.commit()
    return redirect("/account/password?done=password")


def _token_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created": started_display(token.created_ms),
        "created_iso": iso_utc(token.created_ms),
        "last_used": None if token.last_used_ms is None else started_display(token.last_used_ms),
        "revoked": None if token.revoked_ms is None else started_display(token.revoked_ms),
    }


async def _tokens_page(
    request: web.Request,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        tokens = await list_api_tokens(db, principal.user_id)
        orgs = await scope.list_organisations(db, principal)
    context = {
        "tokens": [_token_row(t) for t in tokens],
        "orgs": orgs,
        "new_token": new_token,
        "error": error,
        "flash": done_flash(request, TOKEN_FLASH),
        "max_name": MAX_TOKEN_NAME,
    }
    return render(request, "account_tokens.html", "API tokens", context, status)


async def tokens_page(request: web.Request) -> web.Response:
    return await _tokens_page(request)


async def create_token(request: web.Request) -> web.Response:
    """Answers with the page itself (not a redirect): the token is shown this once."""
    principal = require_principal(request)
    name = (await read_form(request)).get("name", "").strip()
    if len(name) > MAX_TOKEN_NAME or any(ord(ch) < 0x20 for ch in name):
        return await _tokens_page(
            request,
            error=f"The name must be at most {MAX_TOKEN_NAME} printable characters.",
            status=400,
        )
    async with request.app[keys.DB]() as db:
        token = await issue_api_token(db, principal.user_id, name)
        await db.commit()
    return await _tokens_page(request, new_token=token)


async def revoke_token(request: web.Request) -> web.Response:
    principal = require_principal(request)
    token_id = id_in_path(request, "token_id")
    async with request.app[keys.DB]() as db:
        await revoke_api_token(db, principal.user_id, token_id)
        await db.commit()
    return redirect("/account/tokens?done=revoked")
