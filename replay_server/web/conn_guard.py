"""The TCP edge of `serve`: what aiohttp does not bound by itself.

- Connections: a node-wide cap below the file descriptor limit and a cap per
  untrusted peer address, refused at once with a canned 429 JSON response.
- Request heads: the first must be complete within
  REPLAY_HTTP_HEADER_TIMEOUT_SECONDS of the connection opening, later ones
  within that of their first byte (aiohttp's keep-alive timer only bounds the
  whole wait for a request).
- WebSocket frames (FrameGate): read ahead of aiohttp's reader, whose frame
  size limit is fixed per connection and whose partial frames are invisible: a
  small frame limit until the welcome, a node-wide budget of bytes announced by
  frame headers still arriving, and a deadline per frame.

Built by replay_server/web/runner.py around aiohttp's own RequestHandler; the
state lives in ingest/admission.py (app[keys.ADMISSION]). aiohttp has no hooks
for any of this: the subclass reads a few of RequestHandler's attributes
(`_request_count`, `_waiter`, `_upgraded`) and builds handlers as its Server
would (aiohttp 3.14); tests/web/test_conn_guard.py pins the behaviour on a real
process, so an aiohttp upgrade that changes them fails there."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_websocket import WebSocketReader
from aiohttp.web_protocol import RequestHandler

from replay_server.errors import ReplayError, TooLarge
from replay_server.ingest.admission import SMALL_MESSAGE, Admission, TimedOut, server_busy
from replay_server.metrics import Metrics
from replay_server.proxies import is_trusted
from replay_server.web.middleware import error_body

log = logging.getLogger(__name__)

OP_CONTINUATION = 0x0
OP_CONTROL = 0x8  # and above: close, ping, pong (at most 125 bytes, checked by aiohttp)


@dataclass(frozen=True)
class GuardConfig:
    admission: Admission
    metrics: Metrics
    trusted_proxies: str
    header_timeout: float
    frame_timeout: float
    hello_frame_bytes: int
    max_frame_bytes: int


def canned_refusal(error: ReplayError) -> bytes:
    """A whole HTTP response written before the request is read."""
    body = json.dumps(error_body(error.code, error.message)).encode()
    head = (
        f"HTTP/1.1 {error.http_status} {HTTPStatus(error.http_status).phrase}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Retry-After: 10\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedRequestHandler(RequestHandler):
    """aiohttp's protocol with the caps, the head deadline and the frame gate."""

    def __init__(self, manager: web.Server, config: GuardConfig, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.config = config
        self.frame_gate: FrameGate | None = None
        self._peer_ip: str | None = None
        self._admitted = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else None
        # A trusted proxy carries many visitors: only the node total counts it here
        # (its visitors are counted per forwarded address at the recorder endpoints).
        untrusted = None if is_trusted(address, self.config.trusted_proxies) else address or ""
        admission = self.config.admission
        refusal = admission.open_tcp(untrusted)
        if refusal is not None:
            self.config.metrics.errors.labels(refusal.code).inc()
            if admission.warn_due(time.monotonic()):
                log.warning(
                    "refusing connections (%s; %d open, from %s now): see "
                    "REPLAY_MAX_CONNECTIONS, REPLAY_MAX_CONNECTIONS_PER_IP",
                    refusal.code,
                    admission.total,
                    address,
                )
            transport.write(canned_refusal(refusal))
            self.force_close()
            return
        self._peer_ip, self._admitted = untrusted, True
        # The first request head is due within the header timeout of the opening
        # (like nginx's client_header_timeout): a socket that says nothing goes too.
        when = time.monotonic() + self.config.header_timeout
        admission.deadlines.arm(self, when, self._head_late)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.config.admission.deadlines.disarm(self)
        if self._admitted:
            self._admitted = False
            self.config.admission.close_tcp(self._peer_ip)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        heads_before = self._request_count
        super().data_received(data)
        deadlines = self.config.admission.deadlines
        if self._upgraded or self._force_close or self._request_count != heads_before:
            deadlines.disarm(self)  # a head is complete (or this is a WebSocket now)
        elif data and not deadlines.armed(self) and self._waiting_for_head():
            deadlines.arm(self, time.monotonic() + self.config.header_timeout, self._head_late)

    def _waiting_for_head(self) -> bool:
        waiter = self._waiter
        return self._request_count == 0 or (waiter is not None and not waiter.done())

    def _head_late(self) -> None:
        self.config.metrics.errors.labels("header_timeout").inc()
        self.force_close()

    def set_parser(
        self, parser: WebSocketReader, data_received_cb: Callable[[], None] | None = None
    ) -> None:
        self.frame_gate = FrameGate(parser, self.config, self._frame_refused)
        super().set_parser(self.frame_gate, data_received_cb)  # type: ignore[arg-type]

    def _frame_refused(self, error: ReplayError) -> None:
        # Not a recorder's socket (those answer with an error frame: ws_recorder).
        self.config.metrics.errors.labels(error.code).inc()
        self.force_close()


class FrameGate:
    """Reads WebSocket frame headers ahead of aiohttp's reader (same interface).

    A message still incomplete when a read ends is held here, not in aiohttp's
    reader, and fed to it once complete: what an unfinished frame holds is
    dropped the moment it is refused, whatever else still refers to the reader
    (connections are reference cycles, collected late). Such a message has its
    announced length reserved in the node's budget (server_busy when that is
    spent) and must be complete within the frame timeout. A message that arrives
    within one read, like most recorder batches, goes straight through. Before
    the welcome, messages are limited to a hello's size from their header."""

    def __init__(
        self,
        inner: WebSocketReader,
        config: GuardConfig,
        on_refusal: Callable[[ReplayError], None],
    ) -> None:
        self._inner: WebSocketReader | None = inner
        self._config = config
        self.on_refusal = on_refusal
        self.limit = config.hello_frame_bytes  # until the welcome
        self.refused = False
        self._held: list[bytes] = []  # the unfinished unit (message or control frame)
        self._open = False  # a unit began in an earlier read and is not complete
        self._head = b""  # a frame header still arriving
        self._left = 0  # payload bytes of the current frame still to come
        self._control = False
        self._fin = False
        self._in_message = False  # a data frame without FIN came: more fragments follow
        self._announced = 0  # bytes the data message being received announced so far
        self._reserved = 0  # of those, held in the node's budget

    def welcomed(self) -> None:
        """Frames up to REPLAY_MAX_FRAME_BYTES from now on (aiohttp checks that)."""
        self.limit = 0

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._inner is None:
            return False, b""
        refusal, start = self._scan(data)
        if refusal is not None:
            self.refuse(refusal)
            return False, b""
        if start is None:  # everything is complete
            ready = b"".join([*self._held, data]) if self._held else data
            self._held = []
        elif start > 0:  # complete up to a unit that began in this read
            ready = b"".join([*self._held, data[:start]])
            self._held = [data[start:]]
        else:
            self._held.append(data)
            return False, b""
        result: tuple[bool, bytes] = self._inner.feed_data(ready)
        return result

    def feed_eof(self) -> None:
        self._end_message()
        self._held = []
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.feed_eof()

    def refuse(self, error: ReplayError) -> None:
        if not self.refused:
            self.refused = True
            self._end_message()
            self._held = []
            self._inner = None
            self.on_refusal(error)

    def _scan(self, data: bytes) -> tuple[ReplayError | None, int | None]:
        """Follows the frames of `data`: a refusal, and where in `data` the unit
        still unfinished at its end began (0: before it; None: there is none)."""
        pos, size = 0, len(data)
        start: int | None = 0 if self._open else None
        while pos < size:
            if self._left:
                step = min(self._left, size - pos)
                self._left -= step
                pos += step
                if not self._left and self._frame_done():
                    start = None
                continue
            if start is None:
                start = pos  # a unit begins with this header
            head = self._head + data[pos : pos + 14]
            need = _header_size(head)
            if need is None or len(head) < need:
                self._head = head
                break
            pos += need - len(self._head)
            self._head = b""
            refusal = self._frame_started(head[:need])
            if refusal is not None:
                return refusal, start
            if not self._left and self._frame_done():
                start = None
        self._open = start is not None
        return self._in_progress(), start

    def _frame_started(self, header: bytes) -> ReplayError | None:
        opcode, self._fin = header[0] & 0x0F, bool(header[0] & 0x80)
        length = header[1] & 0x7F
        if length >= 126:
            size = 2 if length == 126 else 8
            length = int.from_bytes(header[2 : 2 + size], "big")
        self._left = length
        self._control = opcode >= OP_CONTROL
        if self._control:
            return None
        self._announced += length
        if self.limit and self._announced > self.limit:
            return TooLarge(
                f"frames before the welcome may have at most {self.limit} bytes",
                code="frame_too_large",
            )
        if self._announced >= self._config.max_frame_bytes:  # as aiohttp's reader counts
            return TooLarge("frame too large", code="frame_too_large")
        return None

    def _frame_done(self) -> bool:
        """A frame is complete; True when that completes its unit."""
        if self._control:
            return not self._in_message
        if self._fin:
            self._end_message()
            return True
        self._in_message = True
        return False

    def _end_message(self) -> None:
        self._config.admission.inflight.release(self._reserved)
        self._announced = self._reserved = 0
        self._in_message = False
        self._config.admission.deadlines.disarm(self)

    def _in_progress(self) -> ReplayError | None:
        """At the end of a read: hold what an incomplete message announced in the
        budget, and give it a deadline."""
        deadlines = self._config.admission.deadlines
        if not self._open:
            deadlines.disarm(self)
            return None
        if not deadlines.armed(self):
            deadlines.arm(self, time.monotonic() + self._config.frame_timeout, self._late)
        more = self._announced - self._reserved
        if more > 0:
            if not self._config.admission.inflight.reserve(
                more, small=self._announced <= SMALL_MESSAGE
            ):
                return server_busy()
            self._reserved = self._announced
        return None

    def _late(self) -> None:
        self.refuse(
            TimedOut(
                f"a frame must arrive within {self._config.frame_timeout:g} s of its first byte",
                code="frame_timeout",
            )
        )


def _header_size(head: bytes) -> int | None:
    if len(head) < 2:
        return None
    length = head[1] & 0x7F
    extended = 2 if length == 126 else 8 if length == 127 else 0
    return 2 + extended + (4 if head[1] & 0x80 else 0)


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site serving GuardedRequestHandler instead of RequestHandler."""

    def __init__(self, runner: web.AppRunner, config: GuardConfig, **kwargs: Any) -> None:
        super().__init__(runner, **kwargs)
        self._config = config

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        loop = server._loop
        handler_kwargs = server._kwargs  # what the stock handler would be built with

        def protocol() -> GuardedRequestHandler:
            return GuardedRequestHandler(server, self._config, loop=loop, **handler_kwargs)

        self._server = await loop.create_server(
            protocol,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        if self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]


def frame_gate_of(request: web.Request) -> FrameGate | None:
    """The gate of a prepared WebSocket's connection (None outside `serve`, e.g.
    under aiohttp's test server)."""
    protocol = request.protocol
    return protocol.frame_gate if isinstance(protocol, GuardedRequestHandler) else None
