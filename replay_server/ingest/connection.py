"""One recorder connection's side of protocol v1, shared by the WebSocket
endpoint and the HTTP fallback: hello, then batches, then bye."""

from __future__ import annotations

import dataclasses
from typing import Any

from replay_server.enrich.visitmeta import CountryLookup, visit_origin
from replay_server.errors import InvalidMessage, TooLarge
from replay_server.ingest.ingestor import Ingestor
from replay_server.ingest.prep.preparer import FrameContext
from replay_server.ingest.ratelimit import IngestRateLimits
from replay_server.ingest.sites import SiteDirectory, SiteInfo
from replay_server.ingest.state import SessionState
from replay_server.privacy.masking import MaskPolicy, honours_dnt
from replay_server.privacy.urls import UrlPolicy, redact_emails, redact_url
from replay_server.protocol import Bye, Hello, Limits, ack, parse_message, unpack_frame, welcome
from replay_server.timeutil import now_ms


class RecorderConnection:
    def __init__(
        self,
        *,
        sites: SiteDirectory,
        ingestor: Ingestor,
        limits: Limits,
        origin: str | None,
        user_agent: str,
        client_ip: str | None,
        countries: CountryLookup,
        rate_limits: IngestRateLimits,
        privacy_signal: bool = False,
        max_hello_bytes: int = 64 * 1024,
    ) -> None:
        self._sites = sites
        self._ingestor = ingestor
        self.limits = limits
        self._origin = origin
        self._user_agent = user_agent
        self._client_ip = client_ip
        self._countries = countries
        self._rate_limits = rate_limits
        self._privacy_signal = privacy_signal  # the browser sent DNT: 1 or Sec-GPC: 1
        self._max_hello_bytes = max_hello_bytes
        self.site: SiteInfo | None = None
        self.hello: Hello | None = None
        self.state: SessionState | None = None
        self.refused = False
        self._clock_offset_ms = 0
        self._masking = MaskPolicy()
        self._urls = UrlPolicy()

    async def charge(self, messages: int, nbytes: int) -> None:
        """Count messages against the session's and the site's rates (after the
        hello: before it neither is known); waits while they are briefly over."""
        if self.hello is None or self.site is None:
            raise InvalidMessage("hello must come first", code="hello_required")
        await self._rate_limits.messages(
            _session_key(self.hello), str(self.site.id), messages, nbytes
        )

    async def handle_frame(self, frame: bytes) -> list[dict[str, Any]]:
        if self.hello is None:
            return await self._before_hello(frame)
        await self.charge(1, len(frame))
        prepared = await self._ingestor.prepare_frame(frame, self._frame_context())
        if prepared is not None:
            state = self._batch_state(prepared.page)
            return [ack(await self._ingestor.accept(state, prepared, frame))]
        # Not a batch: a hello or a bye, small and parsed here.
        message = parse_message(unpack_frame(frame, self.limits), self.limits)
        if isinstance(message, Hello):
            return [await self.on_hello(message)]
        assert isinstance(message, Bye)
        if self.state is not None:
            self.state.said_bye = True
        return []

    async def _before_hello(self, frame: bytes) -> list[dict[str, Any]]:
        # Only a hello is read before the hello: nothing costlier is decoded, and
        # nothing else accepted (no rate applies yet), for a connection whose
        # site and session are not known. The recorder's first frame is its hello.
        if len(frame) > self._max_hello_bytes:
            raise TooLarge(
                f"frames before the welcome may have at most {self._max_hello_bytes} bytes",
                code="frame_too_large",
            )
        raw = unpack_frame(frame, self.limits)
        if raw.get("t") != "hello":
            raise InvalidMessage("hello must come first", code="hello_required")
        message = parse_message(raw, self.limits)
        assert isinstance(message, Hello)
        welcome_msg = await self.on_hello(message)
        if self.hello is not None:
            await self.charge(1, len(frame))
        return [welcome_msg]

    def _frame_context(self) -> FrameContext:
        state, hello = self.state, self.hello
        if state is None or hello is None:
            return FrameContext(None, -1, 0, 0, self._masking, self._urls)
        return FrameContext(
            state.sid, state.acked_seq, hello.page, self._clock_offset_ms, self._masking, self._urls
        )

    async def on_hello(self, hello: Hello) -> dict[str, Any]:
        if self.hello is not None:
            raise InvalidMessage("hello was already sent on this connection")
        self._rate_limits.hello(self._client_ip, _session_key(hello))
        site = await self._sites.by_key(hello.site)
        site.check_origin(self._origin)
        # URLs (and e-mail addresses in the title) are stored redacted whatever the
        # recorder did (privacy/urls.py).
        s = site.site_settings
        self._urls = UrlPolicy.from_lists(s.url_params_allow, s.url_params_deny)
        hello = dataclasses.replace(
            hello,
            url=redact_url(hello.url, self._urls),
            referrer=redact_url(hello.referrer, self._urls),
            title=redact_emails(hello.title),  # "Account of jane@example.org"
        )
        self.site, self.hello = site, hello
        config = site.recorder_config(hello.sid)
        if self._privacy_signal and honours_dnt(site.site_settings):
            config["record"] = False  # a recorder that did not check DNT/GPC itself
        if not config["record"]:
            self.refused = True
            return welcome(hello.sid, -1, config)
        # Country from the full address, before it is truncated (or dropped) per the site.
        origin = visit_origin(self._client_ip, site.site_settings.ip_mode, self._countries)
        self.state = await self._ingestor.open(site.id, hello, self._user_agent, origin)
        self._masking = MaskPolicy.from_settings(site.site_settings)
        self._clock_offset_ms = now_ms() - hello.clock
        return welcome(hello.sid, self.state.acked_seq, config)

    async def on_batch_frame(self, frame: bytes) -> dict[str, Any]:
        """A batch of the HTTP fallback, as the frame its body was split into
        (ingest/http_body): prepared like a WebSocket frame, by the frame worker
        that holds the session's masking state."""
        prepared = await self._ingestor.prepare_frame(frame, self._frame_context())
        if prepared is None:
            raise InvalidMessage("not a batch")
        state = self._batch_state(prepared.page)
        return ack(await self._ingestor.accept(state, prepared, frame))

    def _batch_state(self, page: int) -> SessionState:
        if self.hello is None or self.state is None:
            if self.refused:
                raise InvalidMessage("recording is off for this site", code="recording_refused")
            raise InvalidMessage("hello must come first", code="hello_required")
        if page > self.hello.page:
            raise InvalidMessage(f"batch of page {page} on page {self.hello.page}")
        return self.state

    async def close(self) -> None:
        state, self.state = self.state, None
        if state is not None:
            await self._ingestor.disconnected(state)


def _session_key(hello: Hello) -> str:
    return f"{hello.site}/{hello.sid}"
