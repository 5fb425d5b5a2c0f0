"""Dashboard pages: login, sites, a site's sessions (search by URL), the player."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .. import keys
from ..accounts import site_snippet
from ..api.params import id_in_path, session_query
from ..api.serialize import is_live
from ..auth.context import get_principal, request_auth, require_principal
from ..auth.login import authenticate, clear_login_cookie, end_login, set_login_cookie, start_login
from ..db import scope
from ..db.models import RecordedSession
from ..timeutil import iso_utc, now_ms
from .display import duration_display, safe_next, started_display
from .render import redirect, render

routes = web.RouteTableDef()


@routes.get("/login", name="login")
async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if get_principal(request) is not None:
        raise web.HTTPFound(next_path)
    context = {"error": None, "next": next_path, "email": ""}
    return render(request, "login.html", "Sign in", context)


@routes.post("/login")
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    async with request.app[keys.DB]() as db:
        user = await authenticate(db, email, password) if email and password else None
        if user is None:
            context = {"error": "Wrong email or password.", "next": next_path, "email": email}
            return render(request, "login.html", "Sign in", context, status=401)
        token = await start_login(db, user.id, request.app[keys.SETTINGS].login_cookie_days)
        await db.commit()
    response = redirect(next_path)
    set_login_cookie(response, request, token)
    return response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.Response:
    token = request_auth(request).login_token
    if token is not None:
        async with request.app[keys.DB]() as db:
            await end_login(db, token)
            await db.commit()
    response = redirect("/login")
    clear_login_cookie(response)
    return response


@routes.get("/", name="sites")
async def sites_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        sites = await scope.list_sites(db, principal)
    public_url = request.app[keys.SETTINGS].effective_public_url
    items = [
        {
            "id": s.site.id,
            "name": s.site.name,
            "public_key": s.site.public_key,
            "origins": list(s.site.allowed_origins),
            "session_count": s.session_count,
            "snippet": site_snippet(public_url, s.site.public_key),
        }
        for s in sites
    ]
    return render(request, "sites.html", "Sites", {"sites": items})


@routes.get("/sites/{site_id}/sessions", name="sessions")
async def sessions_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    query = session_query(request)
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id)
        page = await scope.list_sessions(db, principal, site_id, query)
    now = now_ms()
    next_url = None
    if page.next_cursor is not None:
        params = {"url": query.url} if query.url else {}
        next_url = f"{request.path}?{urlencode({**params, 'cursor': page.next_cursor})}"
    context = {
        "site": {"id": site.id, "name": site.name},
        "filters": {"url": query.url},
        "sessions": [session_row(s, now) for s in page.sessions],
        "next_url": next_url,
    }
    return render(request, "sessions.html", f"Sessions · {site.name}", context)


def session_row(session: RecordedSession, now: int) -> dict[str, Any]:
    return {
        "id": session.id,
        "started_at": iso_utc(session.started_ms),
        "started_at_display": started_display(session.started_ms),
        "duration_display": duration_display(session.duration_ms),
        "entry_url": session.entry_url,
        "page_count": session.page_count,
        "browser": session.browser,
        "os": session.os,
        "device": session.device,
        "live": is_live(session, now),
    }


@routes.get("/sessions/{session_id}", name="player")
async def player_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, request.match_info["session_id"])
        site = await scope.get_site(db, principal, session.site_id)
    context = {"session_id": session.id, "site": {"id": site.id, "name": site.name}}
    return render(request, "player.html", "Replay", context)
