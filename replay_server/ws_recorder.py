"""WebSocket ingest endpoint `GET /ingest/ws` (protocol v1, docs/protocol.md).

Errors become an `error` frame plus the close code of the protocol; the
session's already-acked batches are untouched by anything a connection sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import weakref

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from replay_server import keys
from replay_server.errors import InvalidMessage, ReplayError, TooLarge
from replay_server.ingest.admission import TimedOut
from replay_server.ingest.connection import RecorderConnection
from replay_server.metrics import Metrics
from replay_server.privacy.masking import browser_says_no
from replay_server.protocol import Limits, error, pack
from replay_server.proxies import client_ip
from replay_server.settings import Settings
from replay_server.text import clean_header
from replay_server.web.conn_guard import FrameGate, frame_gate_of

log = logging.getLogger(__name__)

SERVER_ERROR_CLOSE = 1011
SERVICE_RESTART_CLOSE = 1012
STORAGE_UNAVAILABLE_CLOSE = 1013
# The codes docs/protocol.md documents for failures of the server, not the recorder.
SERVER_FAILURES = {
    SERVER_ERROR_CLOSE: ("server_error", "internal server error"),
    STORAGE_UNAVAILABLE_CLOSE: ("storage_unavailable", "this node cannot store data now"),
}
CLOSE_TIMEOUT = 3.0  # how long our close waits for the peer's close frame


class RecorderSocket(web.WebSocketResponse):
    """A recorder's WebSocket. A frame over REPLAY_MAX_FRAME_BYTES is refused by
    aiohttp from its header, before its payload is read, and aiohttp closes the
    socket itself with 1009; the protocol answers it like any other over-limit
    message instead (an `error` frame, then 4413), so the recorder drops that
    batch rather than resending it forever."""

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not self.closed:
            refusal = TooLarge("frame too large", code="frame_too_large")
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self.send_bytes(pack(error(refusal.code, refusal.message)))
            code, message = refusal.ws_close_code, refusal.code.encode()
        return await super().close(code=code, message=message, drain=drain)


def ingest_limits(request: web.Request) -> Limits:
    s = request.app[keys.SETTINGS]
    return Limits(
        s.max_frame_bytes, s.max_batch_bytes, s.max_events_per_batch, s.max_items_per_batch
    )


async def recorder_ws(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[keys.SETTINGS]
    ws = RecorderSocket(
        heartbeat=settings.ws_heartbeat_seconds,
        max_msg_size=settings.max_frame_bytes,
        compress=False,
        timeout=CLOSE_TIMEOUT,
    )
    await ws.prepare(request)
    request.app[keys.RECORDER_SOCKETS].add(ws)
    metrics = request.app[keys.METRICS]
    refusals: set[asyncio.Task[None]] = set()
    gate = frame_gate_of(request)
    if gate is not None:
        gate.on_refusal = functools.partial(_refuse_soon, ws, metrics, refusals)
    metrics.connections.inc()
    try:
        await _admit_and_serve(request, ws, gate)
    except ReplayError as e:
        metrics.errors.labels(e.code).inc()
        await _close_with_error(ws, e.ws_close_code, *public_error(e))
    except ConnectionResetError:
        pass
    except Exception:
        log.exception("recorder connection failed")
        metrics.errors.labels("server_error").inc()
        await _close_with_error(ws, SERVER_ERROR_CLOSE, "server_error", "internal server error")
    finally:
        metrics.connections.dec()
        if refusals:
            await asyncio.wait(refusals)
    return ws


async def _admit_and_serve(
    request: web.Request, ws: web.WebSocketResponse, gate: FrameGate | None
) -> None:
    """Per client IP: a cap on open recorder connections and a rate of new ones
    (the forwarded address behind a trusted proxy)."""
    app = request.app
    ip = client_ip(request, app[keys.SETTINGS].trusted_proxies)
    with app[keys.ADMISSION].recorders.slot(ip):
        app[keys.RATE_LIMITS].connect(ip)
        conn = open_connection(request)
        try:
            await _serve(ws, conn, app[keys.METRICS], app[keys.SETTINGS], gate)
        finally:
            await conn.close()


def open_connection(request: web.Request) -> RecorderConnection:
    settings = request.app[keys.SETTINGS]
    return RecorderConnection(
        sites=request.app[keys.SITES],
        ingestor=request.app[keys.INGESTOR],
        limits=ingest_limits(request),
        origin=request.headers.get("Origin"),
        user_agent=clean_header(request.headers.get("User-Agent")),  # stored: text.py
        client_ip=client_ip(request, settings.trusted_proxies),
        countries=request.app[keys.COUNTRIES],
        rate_limits=request.app[keys.RATE_LIMITS],
        privacy_signal=browser_says_no(request.headers),
        max_hello_bytes=settings.max_hello_frame_bytes,
    )


async def _serve(
    ws: web.WebSocketResponse,
    conn: RecorderConnection,
    metrics: Metrics,
    settings: Settings,
    gate: FrameGate | None,
) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(None) as quiet:
            while True:
                quiet.reschedule(_quiet_until(loop.time(), conn, settings))
                msg = await ws.receive()
                quiet.reschedule(None)
                if msg.type != WSMsgType.BINARY:
                    _not_binary(ws, msg.type)
                    return
                await _on_frame(ws, conn, metrics, msg.data)
                if conn.refused:
                    await ws.close()
                    return
                if gate is not None and conn.hello is not None:
                    gate.welcomed()
    except TimeoutError:
        if not quiet.expired():
            raise
        if conn.hello is None:
            raise TimedOut(
                f"no hello within {settings.hello_timeout_seconds:g} s", code="hello_timeout"
            ) from None
        raise TimedOut(
            f"no frame for {settings.ws_idle_timeout_seconds:g} s", code="idle_timeout"
        ) from None


def _quiet_until(now: float, conn: RecorderConnection, settings: Settings) -> float | None:
    """Until when a connection may send nothing: the hello timeout before the
    hello, the idle timeout after it."""
    if conn.hello is None:
        return now + settings.hello_timeout_seconds
    return now + settings.ws_idle_timeout_seconds if settings.ws_idle_timeout_seconds else None


async def _on_frame(
    ws: web.WebSocketResponse, conn: RecorderConnection, metrics: Metrics, data: bytes
) -> None:
    started = time.perf_counter()
    metrics.bytes_in.inc(len(data))
    for reply in await conn.handle_frame(data):
        frame = pack(reply)
        await ws.send_bytes(frame)
        metrics.bytes_out.inc(len(frame))
        if reply["t"] == "ack":
            metrics.ack_latency.observe(time.perf_counter() - started)


def _not_binary(ws: web.WebSocketResponse, kind: WSMsgType) -> None:
    """A text frame or aiohttp's refusal of a frame; a close ends the loop."""
    if kind == WSMsgType.TEXT:
        raise InvalidMessage("text frames are not accepted; send msgpack in binary frames")
    if kind == WSMsgType.ERROR:
        exc = ws.exception()
        if isinstance(exc, WebSocketError) and exc.code == WSCloseCode.MESSAGE_TOO_BIG:
            raise TooLarge("frame too large", code="frame_too_large")


def _refuse_soon(
    ws: web.WebSocketResponse,
    metrics: Metrics,
    pending: set[asyncio.Task[None]],
    error: ReplayError,
) -> None:
    """The frame gate refused (from the transport's callback): the error frame
    and the close follow in a task, which also ends the handler's receive."""
    metrics.errors.labels(error.code).inc()
    task = asyncio.get_running_loop().create_task(
        _close_with_error(ws, error.ws_close_code, *public_error(error))
    )
    pending.add(task)
    task.add_done_callback(pending.discard)


def public_error(error: ReplayError) -> tuple[str, str]:
    """The (code, message) of the `error` frame: a refusal of what the recorder
    sent (4xxx) as it is; a failure of the server (1011, 1013) as its documented
    code with a generic message, the details (paths, driver and OS messages)
    going to the log only."""
    generic = SERVER_FAILURES.get(error.ws_close_code)
    if generic is None:
        return error.code, error.message
    log.warning("recorder connection failed (%s): %s", error.code, error.message)
    return generic


async def _close_with_error(
    ws: web.WebSocketResponse, close_code: int, code: str, message: str
) -> None:
    if ws.closed:
        return
    try:
        await ws.send_bytes(pack(error(code, message)))
        await ws.close(code=close_code, message=code.encode()[:120])
    except (ConnectionResetError, RuntimeError):
        pass


async def close_recorder_sockets(app: web.Application) -> None:
    """On shutdown: 1012 tells recorders to reconnect (to this node once it is
    back, or another); what they have not seen acked they resend."""
    registry = app[keys.RECORDER_SOCKETS]
    for ws in list(registry):
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await ws.close(code=SERVICE_RESTART_CLOSE, message=b"server restarting")


def setup_recorder_sockets(app: web.Application) -> None:
    sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
    app[keys.RECORDER_SOCKETS] = sockets
    app.on_shutdown.append(close_recorder_sockets)
