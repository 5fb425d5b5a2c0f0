"""Handlers of the JSON API v1. Each one goes through db.scope, so it only sees
the caller's organisations."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack
from aiohttp import web

from replay_server import keys
from replay_server.accounts.site_settings import complete_stored
from replay_server.api.params import id_in_path, int_param, prefers_msgpack, session_query
from replay_server.api.serialize import session_detail, session_summary
from replay_server.auth.context import require_principal
from replay_server.db import scope
from replay_server.db.models import Site
from replay_server.errors import InvalidMessage
from replay_server.protocol import MAX_PAGE
from replay_server.timeutil import iso_utc, now_ms


def site_json(site: Site, session_count: int) -> dict[str, Any]:
    return {
        "id": site.id,
        "org_id": site.org_id,
        "name": site.name,
        "public_key": site.public_key,
        "origins": list(site.allowed_origins),
        "settings": complete_stored(site.settings),
        "created_at": iso_utc(site.created_ms),
        "session_count": session_count,
    }


async def list_sites(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        sites = await scope.list_sites(db, principal)
    return web.json_response({"sites": [site_json(s.site, s.session_count) for s in sites]})


async def list_sessions(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    query = session_query(request)
    async with request.app[keys.DB]() as db:
        page = await scope.list_sessions(db, principal, site_id, query)
    now = now_ms()
    return web.json_response(
        {
            "sessions": [session_summary(s, now) for s in page.sessions],
            "next_cursor": page.next_cursor,
        }
    )


async def get_session(request: web.Request) -> web.Response:
    principal = require_principal(request)
    session_id = request.match_info["session_id"]
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, session_id)
        pages = await scope.list_page_views(db, principal, session_id)
        chunks = await scope.chunk_summary(db, principal, session_id)
        spans = await scope.list_chunks(db, principal, session_id)
    return web.json_response(session_detail(session, pages, chunks, now_ms(), spans))


async def get_events(request: web.Request) -> web.Response:
    principal = require_principal(request)
    page = int_param(request, "page", minimum=0, maximum=MAX_PAGE)
    from_ms = int_param(request, "from_ms")
    to_ms = int_param(request, "to_ms")
    if from_ms is not None and to_ms is not None and from_ms > to_ms:
        raise InvalidMessage("from_ms must not be after to_ms", code="invalid_parameter")
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, request.match_info["session_id"])
    read = await request.app[keys.READER].read_session(
        session_id=session.id, site_id=session.site_id, page=page, from_ms=from_ms, to_ms=to_ms
    )
    payload = {"events": read.events, "missing": [m.as_json() for m in read.missing]}
    if prefers_msgpack(request.headers.get("Accept", "")):
        body = await asyncio.to_thread(_msgpack_body, payload)
        content_type = "application/msgpack"
    else:
        body = await asyncio.to_thread(_json_body, payload)
        content_type = "application/json"
    response = web.Response(body=body, content_type=content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "private, no-cache"
    response.enable_compression()  # large bodies are compressed in an executor
    return response


def _msgpack_body(payload: dict[str, Any]) -> bytes:
    body: bytes = msgpack.packb(payload, use_bin_type=True)
    return body


def _json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
