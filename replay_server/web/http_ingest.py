"""HTTP fallback `POST /ingest/batch`: the same protocol as the WebSocket, one
request at a time (sendBeacon at pagehide, networks that block WebSockets)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from replay_server import keys
from replay_server.accounts.origins import origin_or_empty
from replay_server.errors import InvalidMessage
from replay_server.ingest.admission import TimedOut
from replay_server.protocol import Hello, parse_message, unpack_frame
from replay_server.proxies import client_ip
from replay_server.ws_recorder import ingest_limits, open_connection


async def ingest_batch(request: web.Request) -> web.Response:
    limits = ingest_limits(request)
    body = await _read_body(request)
    # Decoding the body is the attacker-shaped work: a frame worker does it.
    frames = await request.app[keys.INGESTOR].split_http_body(body, request.content_type)
    hello = parse_message(unpack_frame(frames.hello, limits), limits)
    if not isinstance(hello, Hello):
        raise InvalidMessage("body needs a hello map", code="hello_required")
    origin = request.headers.get("Origin")
    request.app[keys.METRICS].bytes_in.inc(len(body))
    conn = open_connection(request)
    try:
        welcome = await conn.on_hello(hello)
        await conn.charge(1 + len(frames.batches), len(body))  # the hello and each batch
        acked = welcome["acked"]
        for frame in frames.batches:  # in seq order
            if not conn.refused:
                acked = (await conn.on_batch_frame(frame))["seq"]
    finally:
        await conn.close()
    response = web.json_response({"acked": acked, "config": welcome["config"]})
    _allow_origin(response, origin)
    return response


async def _read_body(request: web.Request) -> bytes:
    """The body, read under the same bounds as a WebSocket frame: one of the
    client IP's connection slots, its announced size held in the node's budget
    of bytes being received, and the frame timeout."""
    app = request.app
    settings = app[keys.SETTINGS]
    admission = app[keys.ADMISSION]
    announced = min(request.content_length or settings.max_frame_bytes, settings.max_frame_bytes)
    ip = client_ip(request, settings.trusted_proxies)
    with admission.recorders.slot(ip), admission.inflight.held(announced):
        try:
            async with asyncio.timeout(settings.frame_timeout_seconds):
                return await request.read()
        except TimeoutError:
            raise TimedOut(
                f"the body must arrive within {settings.frame_timeout_seconds:g} s",
                code="frame_timeout",
            ) from None


async def ingest_preflight(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    _allow_origin(response, request.headers.get("Origin"))
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _allow_origin(response: web.Response, origin: str | None) -> None:
    # No credentials are involved; the site's origin check happened in on_hello.
    allowed = origin_or_empty(origin or "")
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Vary"] = "Origin"
