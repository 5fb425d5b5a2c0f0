"""Live view: `GET /api/v1/sessions/{session_id}/live` (WebSocket, DESIGN.md
section 7). Scoped like every session endpoint (db.scope: another
organisation's session is 404 before the upgrade).

Server -> viewer, JSON text frames:
- `{"t":"events","events":[...]}`: first what is already stored or spooled
  (in frames of at most BACKLOG_FRAME_EVENTS events), then each acked batch;
- `{"t":"caught_up","last_seq":n,"missing":[...]}` once the backlog is sent;
- `{"t":"end"}` when the session has ended; then close 1000.
A viewer that falls behind (its bounded queue overflowed) is closed with 1013
("overflow"): it reloads from the events API. The viewer sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from replay_server import keys
from replay_server.api.serialize import is_live
from replay_server.auth.context import request_auth, require_principal
from replay_server.db import scope
from replay_server.db.models import RecordedSession
from replay_server.errors import Forbidden
from replay_server.live import LiveMessage
from replay_server.live.broker import Subscription
from replay_server.timeutil import now_ms

log = logging.getLogger(__name__)


BACKLOG_FRAME_EVENTS = 500
END_CHECK_SECONDS = 5.0
OVERFLOW_CLOSE = 1013  # "try again later": the viewer reloads from the events API


async def live_view(request: web.Request) -> web.WebSocketResponse:
    principal = require_principal(request)
    check_origin(request)
    async with request.app[keys.DB]() as db:
        session = await scope.get_session(db, principal, request.match_info["session_id"])
    ws = web.WebSocketResponse(
        heartbeat=request.app[keys.SETTINGS].ws_heartbeat_seconds, max_msg_size=4096
    )
    await ws.prepare(request)
    reader = asyncio.create_task(_drain(ws))
    try:
        async with request.app[keys.LIVE].subscribe(session.id) as sub:
            feeder = asyncio.create_task(_feed(request.app, ws, session, sub))
            await asyncio.wait({reader, feeder}, return_when=asyncio.FIRST_COMPLETED)
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await feeder
    except Exception:
        log.exception("live view of session %s failed", session.id)
        await ws.close(code=1011, message=b"server error")
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if not ws.closed:
            await ws.close()
    return ws


def check_origin(request: web.Request) -> None:
    """A browser's WebSocket carries the login cookie from any page; only the
    dashboard's own origin may use it (cross-site WebSocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None or request_auth(request).bearer:
        return
    allowed = {request.host}
    public_url = request.app[keys.SETTINGS].effective_public_url
    if public_url:
        allowed.add(urlsplit(public_url).netloc)
    if urlsplit(origin).netloc not in allowed:
        raise Forbidden("this origin may not open a live view", code="origin_not_allowed")


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the viewer sends, so pings and the close handshake work."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            return


async def _feed(
    app: web.Application, ws: web.WebSocketResponse, session: RecordedSession, sub: Subscription
) -> None:
    read = await app[keys.READER].read_session(session_id=session.id, site_id=session.site_id)
    for i in range(0, len(read.events), BACKLOG_FRAME_EVENTS):
        frame = {"t": "events", "events": read.events[i : i + BACKLOG_FRAME_EVENTS]}
        await ws.send_str(await asyncio.to_thread(_dumps, frame))
    missing = [m.as_json() for m in read.missing]
    await _send(ws, {"t": "caught_up", "last_seq": read.last_seq, "missing": missing})
    last_seq = read.last_seq
    while True:
        if sub.overflowed:
            await ws.close(code=OVERFLOW_CLOSE, message=b"overflow")
            return
        try:
            message = await asyncio.wait_for(sub.next(), END_CHECK_SECONDS)
        except TimeoutError:
            if await _has_ended(app, session.id):
                break
            continue
        if message.ended:
            break
        if message.seq <= last_seq:
            continue  # already in the backlog
        last_seq = message.seq
        await _send(ws, _events_frame(message))
    await _send(ws, {"t": "end"})
    await ws.close(code=1000, message=b"session ended")


def _events_frame(message: LiveMessage) -> dict[str, Any]:
    return {"t": "events", "seq": message.seq, "page": message.page, "events": message.events}


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
    await ws.send_str(_dumps(frame))


async def _has_ended(app: web.Application, session_id: str) -> bool:
    async with app[keys.DB]() as db:
        session = await db.get(RecordedSession, session_id)
    return session is None or not is_live(session, now_ms())
