"""Deletion and export on request (docs/api.md, docs/privacy.md):

- `DELETE /api/v1/sessions/{session_id}`: one session, blobs included;
- `DELETE /api/v1/sites/{site_id}/visitors/{visitor_id}`: every session of one
  visitor id on one site;
- `GET /api/v1/sessions/{session_id}/export`: one session as a self-contained
  JSON file (metadata, page views and every event), as an attachment.

Deleting needs the admin (or owner) role in the site's organisation; exporting
needs what watching needs. Everything goes through db.scope."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import web

from replay_server import keys
from replay_server.api.params import id_in_path
from replay_server.api.serialize import session_detail
from replay_server.auth.context import require_principal
from replay_server.db import scope
from replay_server.errors import InvalidMessage
from replay_server.privacy.erasure import SessionRef, erase_sessions
from replay_server.timeutil import iso_utc, now_ms

EXPORT_FORMAT = "replay-server/session"
EXPORT_VERSION = 1


def visitor_in_path(request: web.Request) -> str:
    """A visitor id is a UUID (as the recorder makes them); anything else is 400."""
    raw = request.match_info["visitor_id"]
    try:
        if len(raw) != 36:
            raise ValueError(raw)
        return str(uuid.UUID(raw))
    except ValueError as e:
        raise InvalidMessage("visitor_id must be a UUID", code="invalid_parameter") from e


async def delete_session(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(
            db, principal, request.match_info["session_id"], role="admin"
        )
        ref = SessionRef(session.id, session.site_id)
    erased = await erase_sessions(request.app[keys.DB], request.app[keys.BLOBS], [ref])
    return web.json_response({"deleted": erased.as_json()})


async def delete_visitor(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    async with request.app[keys.DB]() as db:
        await scope.get_site(db, principal, site_id, role="admin")  # 404/403 before 400
        visitor_id = visitor_in_path(request)
        ids = await scope.visitor_session_ids(db, principal, site_id, visitor_id, role="admin")
    refs = [SessionRef(i, site_id) for i in ids]
    erased = await erase_sessions(request.app[keys.DB], request.app[keys.BLOBS], refs)
    return web.json_response({"deleted": erased.as_json()})


async def export_session(request: web.Request) -> web.Response:
    principal = require_principal(request)
    session_id = request.match_info["session_id"]
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, session_id)
        pages = await scope.list_page_views(db, principal, session_id)
        chunks = await scope.chunk_summary(db, principal, session_id)
    now = now_ms()
    read = await request.app[keys.READER].read_session(
        session_id=session.id, site_id=session.site_id
    )
    events = read.events
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": iso_utc(now),
        "session": session_detail(session, pages, chunks, now),
        "events": events,
    }
    body = await asyncio.to_thread(_json, document)
    response = web.Response(body=body, content_type="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="session-{session.id}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    response.enable_compression()
    return response


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
