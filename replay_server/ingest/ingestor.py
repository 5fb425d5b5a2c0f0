"""The ingestor: accepts validated batches, makes them durable in the spool
before they are acked, cuts them into stored chunks, and reads a session's
events back (stored chunks plus what is still in the spool)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from replay_server.chunks.build import ChunkBuilder
from replay_server.chunks.reader import SessionReader
from replay_server.chunks.writer import ChunkWriter, StoredCut
from replay_server.db.engine import SessionFactory
from replay_server.enrich.visitmeta import VisitOrigin
from replay_server.errors import ConfigError, InvalidMessage, StorageError, TooLarge, Unavailable
from replay_server.ingest.catalog import Catalog
from replay_server.ingest.prep.http_body import HttpFrames, split_http_body
from replay_server.ingest.prep.preparer import FrameContext, PreparedBatch
from replay_server.ingest.prep.worker import WorkerConfig
from replay_server.ingest.prep.workers import FrameWorkers
from replay_server.ingest.recovery import recover_spool
from replay_server.ingest.state import SessionState
from replay_server.live import LiveBroker
from replay_server.metrics import Metrics
from replay_server.protocol import Hello
from replay_server.settings import Settings
from replay_server.snapshot import BatchSummary
from replay_server.spool.log import Spool
from replay_server.spool.records import (
    PendingBatch,
    RawEntry,
    SpoolEntry,
    encode_spool_payload,
    encode_spool_payload_of_packed,
)
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
FINISH_SWEEP_SECONDS = 30.0
EVICT_AFTER_SECONDS = 60.0
CONCURRENT_CUTS = 32
BACKLOG_WAIT_SECONDS = 10.0
# Without frame workers, larger frames are prepared in a thread, where the walk
# holds the interpreter lock in 5 ms slices instead of blocking the event loop
# for its whole length; smaller ones (~1 ms for a 16 KB snapshot) are cheaper
# done at once.
PREPARE_INLINE_BYTES = 256 * 1024


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        max_frame_bytes=settings.max_frame_bytes,
        max_batch_bytes=settings.max_batch_bytes,
        max_events_per_batch=settings.max_events_per_batch,
        max_tree_depth=settings.max_tree_depth,
        max_string_length=settings.max_string_length,
        max_skew_ms=int(settings.max_clock_skew_seconds * 1000),
        max_items=settings.max_items_per_batch,
    )


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        db: SessionFactory,
        blobs: BlobStore,
        metrics: Metrics,
        live: LiveBroker,
    ) -> None:
        self.settings = settings
        self.live = live
        self.metrics = metrics
        self.blobs = blobs
        self.catalog = Catalog(db)
        self.builder = ChunkBuilder(settings.chunk_workers, facts=settings.insights)
        self.writer = ChunkWriter(self.catalog.chunks, blobs, self.builder)
        self.ack_after_storage = settings.ack_mode == "storage"
        if settings.ack_mode not in ("spool", "storage"):
            raise ConfigError(f"REPLAY_ACK_MODE must be spool or storage: {settings.ack_mode!r}")
        self.spool = Spool(settings.spool_dir, settings.spool_segment_bytes)
        self.sessions: dict[str, SessionState] = {}
        self.reader = SessionReader(db, blobs, self.spool, self.sessions.get)
        self._ticker: asyncio.Task[None] | None = None
        self._cuts: set[asyncio.Task[None]] = set()
        # Decoding, validating and masking batches off the event loop (ingest/prep),
        # or here with REPLAY_INGEST_WORKERS=0 and for the HTTP fallback's batches.
        limits = worker_config(settings)
        self.frames: FrameWorkers | None = None
        if settings.ingest_workers > 0:
            self.frames = FrameWorkers(settings.ingest_workers, limits)
        self.preparer = limits.preparer()
        self._pending_total = 0
        # Cutting decodes and compresses a session's pending batches: bounding how
        # many run at once bounds memory when many recorders disconnect together.
        self._cut_slots = asyncio.Semaphore(CONCURRENT_CUTS)
        self._drained = asyncio.Event()
        self._drained.set()
        self._unrecovered: list[Path] = []  # leftover segments recovery must try again

    # -- life cycle ---------------------------------------------------------

    async def start(self) -> None:
        leftovers = self.spool.leftover_segments()
        if leftovers:
            await self._recover(leftovers)
        await self.spool.open()
        self._ticker = asyncio.create_task(self._tick_loop(), name="ingest-ticker")

    async def close(self) -> None:
        """Cut every session's pending batches into chunks, then close the spool."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._cuts:
            await asyncio.gather(*self._cuts, return_exceptions=True)
        for state in list(self.sessions.values()):
            try:
                await self.cut(state)
            except Exception:
                log.exception(
                    "could not chunk session %s at shutdown; the spool keeps it", state.sid
                )
        await self.spool.close()
        await self.builder.close()
        if self.frames is not None:
            await self.frames.close()

    async def _recover(self, segments: list[Path]) -> None:
        """Leftover segments of an earlier run; what cannot be stored now (the
        store or database is down) is tried again by the ticker."""
        result = await recover_spool(segments, self.writer)
        self.metrics.quarantined_batches.inc(result.quarantined)
        self._unrecovered = result.kept

    # -- recording ------------------------------------------------------------

    async def open(
        self, site_id: int, hello: Hello, user_agent: str, origin: VisitOrigin | None = None
    ) -> SessionState:
        """A connection said hello: create or continue the session."""
        cursor = await self.catalog.open_session(site_id, hello, user_agent, now_ms(), origin)
        state = self.sessions.get(hello.sid)
        if state is None:
            state = SessionState(
                sid=hello.sid,
                site_id=site_id,
                acked_seq=cursor.chunked_seq,
                started_ms=cursor.started_ms,
                stored_bytes=cursor.raw_bytes,
            )
            self.sessions[hello.sid] = state
        else:
            # Another node may have stored more of this session meanwhile.
            state.acked_seq = max(state.acked_seq, cursor.chunked_seq)
        state.connections += 1
        state.said_bye = False
        state.last_activity = time.monotonic()
        return state

    async def prepare_frame(self, frame: bytes, context: FrameContext) -> PreparedBatch | None:
        """A recorder frame decoded, validated and masked (ingest/prep): in a frame
        worker, or here when there are none (a large frame in a thread, where the
        walk holds the interpreter lock in slices instead of blocking the loop)."""
        if self.frames is not None:
            return await self.frames.prepare(frame, context)
        if len(frame) > PREPARE_INLINE_BYTES:
            return await asyncio.to_thread(self.preparer.prepare, frame, context)
        return self.preparer.prepare(frame, context)

    async def split_http_body(self, body: bytes, content_type: str) -> HttpFrames:
        """An HTTP fallback body as protocol frames (http_body): decoded in a frame
        worker, or in a thread without workers; never on the event loop."""
        if self.frames is not None:
            return await self.frames.split(body, content_type)
        return await asyncio.to_thread(split_http_body, body, content_type, self.preparer.limits)

    async def accept(
        self, state: SessionState, prepared: PreparedBatch, frame: bytes | None
    ) -> int:
        """Make a prepared batch durable (unless it already is) and return the
        acked seq. What the site's settings say must be masked was masked when it
        was prepared, whatever the recorder sent. `frame`: the WebSocket frame
        that carried the batch alone, stored as it is when masking changed nothing."""
        async with state.lock:
            if self._is_resend(state, prepared.seq):
                return state.acked_seq
            self._check_session_limits(state)
            if prepared.problem is not None:
                raise prepared.problem
            if prepared.summary is None:
                # The worker skips only what the checks above refuse: a bug if reached.
                raise RuntimeError(f"batch {prepared.seq} of {state.sid} was not prepared")
            if prepared.masked:
                self.metrics.masked_values.inc(prepared.masked)
            if prepared.events is not None:
                payload = encode_spool_payload_of_packed(
                    state.site_id, state.sid, prepared.seq, prepared.page, prepared.events
                )
            else:
                assert frame is not None, "a batch prepared without its frame comes back packed"
                spooled = SpoolEntry(state.site_id, state.sid, prepared.seq, prepared.page, [])
                payload = encode_spool_payload(spooled, frame)
            await self._keep(state, prepared.seq, prepared.page, prepared.summary, payload)
        self._cut_if_full(state)
        return state.acked_seq

    def _is_resend(self, state: SessionState, seq: int) -> bool:
        """True for a batch already acked (acked again, stored once); raises for
        a seq absurdly far ahead."""
        if seq <= state.acked_seq:
            self.metrics.batches.labels("duplicate").inc()
            return True
        if seq > state.acked_seq + self.settings.max_seq_jump:
            raise InvalidMessage(f"seq {seq} jumps too far past {state.acked_seq}")
        return False

    async def _keep(
        self, state: SessionState, seq: int, page: int, summary: BatchSummary, payload: bytes
    ) -> None:
        """Make a checked batch durable (spool, or a chunk with ACK_MODE=storage),
        mark it acked, publish it to live viewers (as its payload: decoded only
        where someone watches)."""
        if self.ack_after_storage:
            await self._store_now(state, seq, page, payload)
        else:
            await self._wait_for_room()
            try:
                record = await self.spool.append(payload)
            except Unavailable:
                self.metrics.spool_write_failures.inc()  # disk full or failing: not acked
                raise
            self._pending_total += record.length
            # The session's size limit counts decoded bytes (docs), not wire bytes.
            state.stored_bytes += summary.raw_bytes or record.length
            self.metrics.batches.labels("stored").inc()
            state.add_pending(
                PendingBatch(
                    record=record,
                    seq=seq,
                    page=page,
                    first_ts=summary.first_ts,
                    last_ts=summary.last_ts,
                    event_count=summary.event_count,
                    has_full_snapshot=summary.has_full_snapshot,
                    raw_bytes=summary.raw_bytes or record.length,
                )
            )
        state.acked_seq = seq
        state.last_activity = time.monotonic()
        await self.live.publish_batch(state.sid, seq, page, payload)

    def _cut_if_full(self, state: SessionState) -> None:
        if state.pending_bytes >= self.settings.chunk_max_bytes:
            self._cut_soon(state)

    async def _store_now(self, state: SessionState, seq: int, page: int, payload: bytes) -> None:
        """ACK_MODE=storage: the batch is a stored chunk before it is acked."""
        raw = RawEntry(state.site_id, state.sid, seq, page, payload)
        async with state.cut_lock:
            stored = await self.writer.store(state.sid, [raw], state.insights)
            state.insights = stored.carry
        self._count_stored(stored)
        state.stored_bytes += sum(c.raw_bytes for c in stored.chunks)
        self.metrics.batches.labels("stored" if stored.chunks else "duplicate").inc()

    def _count_stored(self, stored: StoredCut) -> None:
        self.metrics.chunks.inc(len(stored.chunks))
        self.metrics.chunk_bytes.inc(sum(len(c.data) for c in stored.chunks))
        self.metrics.quarantined_batches.inc(stored.quarantined)

    def _check_session_limits(self, state: SessionState) -> None:
        if state.stored_bytes >= self.settings.max_session_bytes:
            raise TooLarge("session is over its size limit", code="session_too_large")
        age_ms = now_ms() - state.started_ms
        if state.started_ms and age_ms > self.settings.max_session_seconds * 1000:
            raise TooLarge("session is over its length limit", code="session_too_long")

    async def _wait_for_room(self) -> None:
        """Backpressure: while too much is waiting to be chunked, acks wait (and
        so the connection stops reading) instead of the backlog growing unbounded.
        When chunks cannot be stored at all (blob store full or down), waiting
        longer than BACKLOG_WAIT_SECONDS refuses the batch as retryable instead
        of holding the recorder with neither an ack nor an error."""
        try:
            async with asyncio.timeout(BACKLOG_WAIT_SECONDS):
                while self._pending_total >= self.settings.max_pending_bytes:
                    self._drained.clear()
                    for state in list(self.sessions.values()):
                        if state.pending and not state.cut_lock.locked():
                            self._cut_soon(state)
                    await self._drained.wait()
        except TimeoutError:
            raise Unavailable(
                "chunks cannot be stored now; try again later", code="storage_unavailable"
            ) from None

    def pending_batch_count(self) -> int:
        return sum(len(s.pending) for s in self.sessions.values())

    async def disconnected(self, state: SessionState) -> None:
        """A connection closed: store what it sent so it is replayable at once."""
        state.connections -= 1
        state.last_activity = time.monotonic()
        if state.connections <= 0:
            if state.pending:
                self._cut_soon(state)
            else:
                await self.catalog.touch(state.sid, now_ms())

    # -- chunking -------------------------------------------------------------

    def _cut_soon(self, state: SessionState) -> None:
        task = asyncio.create_task(self._cut_logged(state))
        self._cuts.add(task)
        task.add_done_callback(self._cuts.discard)

    async def _cut_logged(self, state: SessionState) -> None:
        try:
            await self.cut(state)
        except (StorageError, OSError) as e:
            # The store is full or down: one line per session and try, not a traceback.
            log.warning("cutting chunks of session %s failed (%s); will retry", state.sid, e)
        except Exception:
            log.exception("cutting chunks of session %s failed; will retry", state.sid)

    async def cut(self, state: SessionState) -> None:
        """Store the session's pending batches as chunks, then free their spool space."""
        async with self._cut_slots, state.cut_lock:
            taken = list(state.pending)
            if not taken:
                return
            payloads = await self.spool.read_many([p.record for p in taken])
            batches = [
                RawEntry(state.site_id, state.sid, p.seq, p.page, payload, p.first_ts, p.last_ts)
                for p, payload in zip(taken, payloads, strict=True)
            ]
            stored = await self.writer.store(state.sid, batches, state.insights)
            state.insights = stored.carry  # kept only once the chunks are recorded
            dropped = state.drop_pending(len(taken))
            self.spool.release([p.record for p in taken])
            self._pending_total -= sum(p.record.length for p in dropped)
            if self._pending_total < self.settings.max_pending_bytes:
                self._drained.set()
            self._count_stored(stored)

    async def _tick_loop(self) -> None:
        last_sweep = 0.0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.metrics.spool_pending_batches.set(self.pending_batch_count())
                self.metrics.spool_segments.set(self.spool.backlog_segments)
                await self._tick()
                if time.monotonic() - last_sweep >= FINISH_SWEEP_SECONDS:
                    last_sweep = time.monotonic()
                    if self._unrecovered:
                        await self._recover(self._unrecovered)
                    idle_ms = int(self.settings.session_idle_timeout_seconds * 1000)
                    await self.catalog.finish_idle_sessions(now_ms() - idle_ms)
            except Exception:
                log.exception("ingest tick failed")

    async def _tick(self) -> None:
        now = time.monotonic()
        max_age = self.settings.chunk_max_age_seconds
        bye_idle = self.settings.session_bye_idle_seconds
        for sid, state in list(self.sessions.items()):
            gone = state.connections <= 0 and now - state.last_activity >= bye_idle
            if state.said_bye and gone and not state.cut_lock.locked():
                await self._finish(state)
            elif state.pending and state.pending_since is not None:
                due = max_age * state.age_jitter
                if now - state.pending_since >= due and not state.cut_lock.locked():
                    self._cut_soon(state)
            elif state.connections <= 0 and now - state.last_activity >= EVICT_AFTER_SECONDS:
                # Nothing pending and nobody connected: the database holds its cursor.
                self._forget(sid)

    async def _finish(self, state: SessionState) -> None:
        """`bye` plus idle: store what is left, close the session, forget it."""
        await self.cut(state)
        await self.catalog.finish_session(state.sid)
        if state.connections <= 0 and not state.pending:
            self._forget(state.sid)

    def _forget(self, sid: str) -> None:
        self.sessions.pop(sid, None)
        self.preparer.forget(sid)
        if self.frames is not None:
            self.frames.forget(sid)
