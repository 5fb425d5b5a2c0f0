"""The player page (`/sessions/{session_id}`, `?t=SECONDS` opens at that
moment): the page around the built player (player/static), which rebuilds the
replay in an iframe sandboxed without scripts."""

from __future__ import annotations

from aiohttp import web

from replay_server import keys
from replay_server.auth.context import require_principal
from replay_server.dashboard.render import render
from replay_server.db import scope


async def player_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, request.match_info["session_id"])
        site = await scope.get_site(db, principal, session.site_id)
    context = {"session_id": session.id, "site": {"id": site.id, "name": site.name}}
    return render(request, "player.html", "Replay", context)
