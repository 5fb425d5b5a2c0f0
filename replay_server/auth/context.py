"""What the auth middleware learnt about a request, under a typed RequestKey."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from replay_server.db.principal import Principal
from replay_server.errors import Unauthorized


@dataclass(frozen=True)
class RequestAuth:
    principal: Principal | None = None
    login_token: str | None = None  # the rs_login cookie, when it is a valid login
    bearer: bool = False  # credentials came as Authorization: Bearer


ANONYMOUS = RequestAuth()
AUTH = web.RequestKey("auth", RequestAuth)


def request_auth(request: web.Request) -> RequestAuth:
    auth = request.get(AUTH)
    return ANONYMOUS if auth is None else auth


def get_principal(request: web.Request) -> Principal | None:
    return request_auth(request).principal


def require_principal(request: web.Request) -> Principal:
    principal = get_principal(request)
    if principal is None:
        raise Unauthorized("authentication required")
    return principal
