"""auth_middleware: credentials -> Principal, refusal of anonymous requests to
private paths, and the CSRF check of cookie-authenticated unsafe requests."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler

from replay_server import keys
from replay_server.accounts.tokens import principal_for_api_token
from replay_server.auth.context import ANONYMOUS, AUTH, RequestAuth
from replay_server.auth.csrf import apply_pending_cookie, check_csrf
from replay_server.auth.login import LOGIN_COOKIE, principal_for_login
from replay_server.errors import Unauthorized

PUBLIC_PATHS = frozenset({"/recorder.js", "/healthz", "/metrics", "/login", "/opt-out"})
PUBLIC_PREFIXES = ("/ingest/", "/static/", "/demo", "/invitations/")
# Paths where nobody's credentials are looked up at all (the ingest hot path among them).
NO_LOOKUP_PATHS = frozenset({"/recorder.js", "/healthz", "/metrics"})
NO_LOOKUP_PREFIXES = ("/ingest/", "/static/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    lookup = not (path in NO_LOOKUP_PATHS or path.startswith(NO_LOOKUP_PREFIXES))
    auth = await _resolve(request) if lookup else ANONYMOUS
    request[AUTH] = auth
    public = is_public(path)
    if auth.principal is None and not public:
        _refuse_anonymous(request, auth)
    if (
        request.method not in SAFE_METHODS
        and not auth.bearer
        and (not public or path == "/login" or path.startswith("/invitations/"))
    ):
        await check_csrf(request)
    response = await handler(request)
    apply_pending_cookie(request, response)
    return response


async def _resolve(request: web.Request) -> RequestAuth:
    # Only the Bearer scheme is ours: a reverse proxy's Basic auth in front of
    # the dashboard must not hide the login cookie.
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return await _from_token(request, token.strip())
    cookie = request.cookies.get(LOGIN_COOKIE)
    if cookie:
        return await _from_cookie(request, cookie)
    return ANONYMOUS


async def _from_token(request: web.Request, token: str) -> RequestAuth:
    principal = None
    if token:
        async with request.app[keys.DB]() as db:
            principal = await principal_for_api_token(db, token)
            await db.commit()  # last_used_ms
    return RequestAuth(principal=principal, bearer=True)


async def _from_cookie(request: web.Request, cookie: str) -> RequestAuth:
    async with request.app[keys.DB]() as db:
        principal = await principal_for_login(db, cookie)
    if principal is None:
        return ANONYMOUS  # expired or ended login
    return RequestAuth(principal=principal, login_token=cookie)


def _refuse_anonymous(request: web.Request, auth: RequestAuth) -> None:
    if request.path.startswith("/api/"):
        if auth.bearer:
            raise Unauthorized("invalid or revoked API token")
        raise Unauthorized("authentication required: log in or send Authorization: Bearer TOKEN")
    raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs}))
