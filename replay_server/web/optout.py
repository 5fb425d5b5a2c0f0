"""`GET /opt-out`: the public page that tells a visitor of a client site how to
stop being recorded (docs/privacy.md). No login, no cookie, no script.

The recorder's opt-out flag lives in each client site's own first-party storage,
which this server's origin cannot write. So the page offers what honestly works:
the browser's Global Privacy Control / Do Not Track (honoured on every site that
keeps the default), and, per site, a link to the site with `#rs-opt-out`, which
makes the recorder there opt out (as `ReplayRecorder.optOut()` does) before it
records or connects. `?site=pk_...` lists that site's origins as such links."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from replay_server import keys
from replay_server.errors import UnknownSite
from replay_server.protocol import SITE_KEY_RE

OPT_OUT_FRAGMENT = "#rs-opt-out"


async def opt_out_page(request: web.Request) -> web.Response:
    key = request.query.get("site", "").strip()
    links: list[str] = []
    unknown = False
    if key:
        try:
            if not SITE_KEY_RE.fullmatch(key):
                raise UnknownSite("not a site key")
            site = await request.app[keys.SITES].by_key(key)
            links = sorted(origin + "/" + OPT_OUT_FRAGMENT for origin in site.allowed_origins)
        except UnknownSite:
            unknown = True
    context = {
        "title": "Opt out of session recording",
        "user_email": None,
        "csrf_token": "",
        "links": links,
        "unknown_site": unknown,
    }
    response: web.Response = aiohttp_jinja2.render_template("opt_out.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
