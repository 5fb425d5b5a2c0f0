"""Preparing a recorder frame: decode it, validate its events, mask them.

This is most of the CPU a batch costs (~0.2 ms for a typical one). A frame
worker process (frame_worker) runs it beside the server, so the event loop
only moves bytes and acks; each session is pinned to one worker, which keeps
the masking state of its pages (SessionNodes). Pure: no I/O.

The checks that need the session's authoritative state (is the seq a resend,
a jump, over the session's limits?) stay with the ingestor: an events error
found here is handed back, not raised, so it is reported only when the
ingestor would have validated the batch itself (a resend is acked whatever
its events say).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from replay_server.bounds import StructureLimits, check_events, pack
from replay_server.errors import ReplayError
from replay_server.ingest.prep.pruning import prune_deep_trees
from replay_server.privacy.masking import MaskPolicy, SessionNodes, mask_events
from replay_server.privacy.urls import UrlPolicy, redact_event_urls
from replay_server.protocol import Batch, Limits, parse_message, unpack_frame
from replay_server.snapshot import BatchSummary, EventLimits, validate_events
from replay_server.timeutil import now_ms

# Masking state of this many sessions is kept (least recently used dropped);
# a session whose state is gone masks unknown nodes, which is the safe side.
MAX_SESSIONS = 50_000


@dataclass(frozen=True)
class FrameContext:
    """What the connection knows when one of its frames arrives."""

    sid: str | None  # None until the session is open (hello accepted)
    acked_seq: int
    hello_page: int
    clock_offset_ms: int
    masking: MaskPolicy
    urls: UrlPolicy = dataclasses.field(default_factory=UrlPolicy)  # the site's lists


@dataclass(frozen=True)
class PreparedBatch:
    """A batch frame, decoded, validated and masked.

    `summary` is None when the events were not looked at: no open session,
    a resend, or a page past the connection's. `problem` is why the events
    are refused, for the ingestor to raise after its seq checks. `events` is
    the events (msgpack, masked) when masking rewrote any value or no frame
    carried the batch alone; otherwise the frame is stored as it came."""

    seq: int
    page: int
    summary: BatchSummary | None = None
    problem: ReplayError | None = None
    masked: int = 0
    events: bytes | None = None


class FramePreparer:
    """One worker's side: prepares frames, remembering each session's nodes."""

    def __init__(
        self,
        limits: Limits,
        event_limits: EventLimits,
        max_skew_ms: int,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.limits = limits
        self._structure = StructureLimits(limits.max_items)
        self._event_limits = event_limits
        self._max_skew_ms = max_skew_ms
        self._max_sessions = max_sessions
        self._nodes: OrderedDict[str, SessionNodes] = OrderedDict()

    def prepare(self, frame: bytes, context: FrameContext) -> PreparedBatch | None:
        """The prepared batch, or None for a message that is not a batch (hello,
        bye: the connection parses those itself). Raises ReplayError for a frame
        that is not a valid protocol message."""
        message = parse_message(unpack_frame(frame, self.limits), self.limits)
        if not isinstance(message, Batch):
            return None
        return self.prepare_batch(message, context, frame_bytes=len(frame))

    def prepare_batch(
        self, batch: Batch, context: FrameContext, *, frame_bytes: int = 0
    ) -> PreparedBatch:
        """`frame_bytes`: the size of the frame that carried the batch alone,
        which is stored as it is unless masking rewrites something (0: no such
        frame; the events come back packed)."""
        seq, page = batch.seq, batch.page
        if context.sid is None or seq <= context.acked_seq or page > context.hello_page:
            return PreparedBatch(seq, page)
        pruned = 0
        try:
            try:
                summary = self._check(batch.events, context)
            except ReplayError as e:
                # A page nested deeper than every stage carries loses its deepest
                # nodes' children, not the whole page view (pruning).
                if e.code != "too_deep":
                    raise
                pruned = prune_deep_trees(batch.events, self._event_limits.max_tree_depth)
                if not pruned:
                    raise
                summary = self._check(batch.events, context)
        except ReplayError as e:
            return PreparedBatch(seq, page, problem=e)
        nodes = self.session_nodes(context.sid).page(page)
        masked = mask_events(batch.events, nodes, context.masking)
        masked += redact_event_urls(batch.events, context.urls)
        events = pack(batch.events) if masked or pruned or not frame_bytes else None
        # What the session's limits and chunk cuts count: decoded, not wire, bytes.
        raw_bytes = len(events) if events is not None else batch.raw_bytes or frame_bytes
        summary = dataclasses.replace(summary, raw_bytes=raw_bytes)
        return PreparedBatch(seq, page, summary, None, masked, events)

    def _check(self, events: list[dict[str, Any]], context: FrameContext) -> BatchSummary:
        # Bounds first: what every later stage (chunks, JSON, live) can carry.
        check_events(events, self._structure)
        return validate_events(
            events,
            now_ms=now_ms() - context.clock_offset_ms,
            max_skew_ms=self._max_skew_ms,
            limits=self._event_limits,
        )

    def session_nodes(self, sid: str) -> SessionNodes:
        nodes = self._nodes.get(sid)
        if nodes is None:
            nodes = self._nodes[sid] = SessionNodes()
            if len(self._nodes) > self._max_sessions:
                self._nodes.popitem(last=False)
        else:
            self._nodes.move_to_end(sid)
        return nodes

    def forget(self, sid: str) -> None:
        """The session left this node: its masking state is not needed."""
        self._nodes.pop(sid, None)

    def session_count(self) -> int:
        return len(self._nodes)
