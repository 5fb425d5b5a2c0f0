"""CSRF tokens: HMAC(secret, login token) for a logged-in browser, or
HMAC(secret, pre-login cookie) before login. Every unsafe request that a browser
authenticates with cookies must carry one (form field or header), else 403."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from aiohttp import web

from replay_server import keys
from replay_server.auth.context import request_auth
from replay_server.auth.login import set_private_cookie
from replay_server.errors import Forbidden

CSRF_COOKIE = "rs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE_MAX_AGE = 86_400
_PENDING_COOKIE = web.RequestKey("pending_csrf_cookie", str)


def csrf_token(request: web.Request) -> str:
    """The token to embed in this request's forms; starts a pre-login cookie if needed."""
    base = _base(request)
    if base is None:
        nonce = request.get(_PENDING_COOKIE)
        if nonce is None:
            nonce = request[_PENDING_COOKIE] = secrets.token_urlsafe(24)
        base = "pre:" + nonce
    return _sign(request.app[keys.SECRET], base)


async def check_csrf(request: web.Request) -> None:
    provided = request.headers.get(CSRF_HEADER)
    if provided is None:
        value = (await request.post()).get(CSRF_FIELD)
        provided = value if isinstance(value, str) else None
    base = _base(request)
    if provided is None or base is None:
        raise Forbidden("missing CSRF token; reload the page and try again", code="csrf")
    expected = _sign(request.app[keys.SECRET], base)
    if not hmac.compare_digest(provided.encode(), expected.encode()):
        raise Forbidden("invalid CSRF token; reload the page and try again", code="csrf")


def apply_pending_cookie(request: web.Request, response: web.StreamResponse) -> None:
    nonce = request.get(_PENDING_COOKIE)
    if nonce is not None and not response.prepared:
        set_private_cookie(response, request, CSRF_COOKIE, nonce, CSRF_COOKIE_MAX_AGE)


def _base(request: web.Request) -> str | None:
    login_token = request_auth(request).login_token
    if login_token is not None:
        return "login:" + login_token
    nonce = request.cookies.get(CSRF_COOKIE)
    return "pre:" + nonce if nonce else None


def _sign(secret: bytes, base: str) -> str:
    digest = hmac.new(secret, b"csrf\0" + base.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
