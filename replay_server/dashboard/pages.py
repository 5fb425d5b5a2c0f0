"""Dashboard pages: login, sites, a site's sessions (search by URL)."""

from __future__ import annotations

from aiohttp import web

from replay_server import keys
from replay_server.accounts.orgs import site_snippet
from replay_server.api.params import id_in_path, session_query
from replay_server.auth.context import get_principal, request_auth, require_principal
from replay_server.auth.login import (
    clear_login_cookie,
    end_login,
    set_login_cookie,
    start_login,
    throttled_authenticate,
)
from replay_server.auth.throttle import ThrottledLogin
from replay_server.dashboard.display import safe_next
from replay_server.dashboard.render import redirect, render
from replay_server.dashboard.session_list import canonical_url, list_context
from replay_server.db import scope
from replay_server.db.roles import role_at_least
from replay_server.proxies import client_ip
from replay_server.timeutil import now_ms


async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if get_principal(request) is not None:
        raise web.HTTPFound(next_path)
    context = {"error": None, "next": next_path, "email": ""}
    return render(request, "login.html", "Sign in", context)


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    throttle = request.app[keys.LOGIN_THROTTLE]
    ip = client_ip(request, request.app[keys.SETTINGS].trusted_proxies)
    async with request.app[keys.DB]() as db:
        try:
            user = await throttled_authenticate(throttle, db, email, password, ip)
        except ThrottledLogin as e:
            context = {"error": e.message, "next": next_path, "email": email}
            response = render(request, "login.html", "Sign in", context, status=429)
            response.headers["Retry-After"] = str(e.retry_after_seconds)
            return response
        if user is None:
            context = {"error": "Wrong email or password.", "next": next_path, "email": email}
            return render(request, "login.html", "Sign in", context, status=401)
        token = await start_login(db, user.id, request.app[keys.SETTINGS].login_cookie_days)
        await db.commit()
    response = redirect(next_path)
    set_login_cookie(response, request, token)
    return response


async def logout(request: web.Request) -> web.Response:
    token = request_auth(request).login_token
    if token is not None:
        async with request.app[keys.DB]() as db:
            await end_login(db, token)
            await db.commit()
    response = redirect("/login")
    clear_login_cookie(response)
    return response


async def sites_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        sites = await scope.list_sites(db, principal)
        orgs = await scope.list_organisations(db, principal)
    public_url = request.app[keys.SETTINGS].effective_public_url
    groups = [
        {
            "id": org.id,
            "name": org.name,
            "role": org.role,
            "admin": role_at_least(org.role, "admin"),
            "sites": [
                {
                    "id": s.site.id,
                    "name": s.site.name,
                    "public_key": s.site.public_key,
                    "origins": list(s.site.allowed_origins),
                    "session_count": s.session_count,
                    "snippet": site_snippet(public_url, s.site.public_key),
                }
                for s in sites
                if s.site.org_id == org.id
            ],
        }
        for org in orgs
    ]
    context = {"orgs": groups, "site_count": len(sites)}
    return render(request, "sites.html", "Sites", context)


async def sessions_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    clean_url = canonical_url(request.path, dict(request.query))
    if clean_url is not None:
        return redirect(clean_url)
    query = session_query(request)
    now = now_ms()
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id)
        page = await scope.list_sessions(db, principal, site_id, query, now_ms=now)
    context = {
        "site": {"id": site.id, "name": site.name},
        **list_context(request.path, dict(request.query), page, now),
    }
    return render(request, "sessions.html", f"Sessions · {site.name}", context)
