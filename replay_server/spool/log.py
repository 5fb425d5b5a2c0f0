"""The spool: this node's append-only write-ahead log of accepted batches.

Every session's batches go into one log, so one fsync makes many sessions'
batches durable at once (group commit: measured in DESIGN.md section 9 to be
the difference between falling behind and keeping up). A batch is acked only
after the fsync that covers it returns.

Records are framed so that a torn tail after a crash is detected and ignored:

    b"RS" | payload length (u32 LE) | crc32 of payload (u32 LE) | payload

The log is split into numbered segment files. A segment is deleted once every
record in it has been cut into a stored chunk (reference counts per segment).
Segments found at start-up belong to the previous run and are recovered by the
ingestor before new traffic is accepted.

Disk faults: a record's offset comes only from what was written. A write that
fails (ENOSPC, EDQUOT, EIO) is cut off again (ftruncate), or its segment is
retired when that fails too or the fsync failed, so no torn record ever sits
between good ones. The appends of that flush fail with `Unavailable` (the
recorder retries); the next flush simply tries again, so the spool recovers
by itself when space returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import struct
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from replay_server.errors import Unavailable
from replay_server.storage.local import fsync_dir, make_private_dir

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<2sII")
_MAGIC = b"RS"
_SUFFIX = ".spool"


@dataclass(frozen=True)
class SpoolRecord:
    """Where one payload lives in the spool."""

    segment: int
    offset: int
    length: int


@dataclass
class _PendingWrite:
    frame: bytes
    done: asyncio.Future[SpoolRecord]


@dataclass
class _SegmentWrite:
    """The frames of one flush that go into one segment, written at `start`
    (the segment's length after its last durable write)."""

    segment: int
    start: int
    items: list[_PendingWrite] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.start + sum(len(item.frame) for item in self.items)


@dataclass
class _Outcome:
    """What the writer thread did with a flush's segment writes (in order):
    the first `written` are durable; `error` stopped the next one, which left
    nothing behind (truncated back to its start) unless `retired` (then no
    further record may go into that segment)."""

    written: int
    error: BaseException | None = None
    retired: bool = False


class Spool:
    """Threads: the event loop owns the bookkeeping (segment, length, reference
    counts); the single writer thread owns the segment files' descriptors and
    does every write, sync, close and unlink, so no two threads ever touch one
    descriptor."""

    def __init__(self, directory: Path, segment_bytes: int) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        # Where the next record goes: everything before it in the segment is durable.
        self._segment = 0
        self._length = 0
        self._refs: dict[int, int] = {}
        self._writing: set[int] = set()  # segments of the flush in progress
        self._queue: list[_PendingWrite] = []
        self._wakeup = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._fds: dict[int, int] = {}  # the writer thread's alone
        self._closed = False
        self._stopped = False
        self.fsync_count = 0
        self.failed_flushes = 0
        self._failing_since: float | None = None
        self._failed_in_episode = 0
        # Its own thread: acks must never queue behind chunking, blob or
        # database work in the shared default executor.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-writer")

    # -- life cycle -------------------------------------------------------

    def leftover_segments(self) -> list[Path]:
        """Segments of an earlier run, oldest first (call before `open`)."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{_SUFFIX}"), key=_segment_number)

    async def open(self) -> None:
        await asyncio.to_thread(make_private_dir, self.directory)
        existing = [_segment_number(p) for p in self.leftover_segments()]
        self._segment = max(existing, default=0) + 1
        self._length = 0
        self._refs[self._segment] = 0
        self._flusher = asyncio.create_task(self._flush_loop(), name="spool-flusher")

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self._flusher is not None:
            await self._flusher
        await asyncio.get_running_loop().run_in_executor(self._writer, self._close_all)
        self._stopped = True
        self._writer.shutdown(wait=True)

    # -- writing ------------------------------------------------------------

    async def append(self, payload: bytes) -> SpoolRecord:
        """Append `payload`; return once it is on disk (fsync'd). Raises
        Unavailable when the disk is full or failing (nothing of it is kept)."""
        if self._closed:
            raise RuntimeError("spool is closed")
        frame = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        done: asyncio.Future[SpoolRecord] = asyncio.get_running_loop().create_future()
        self._queue.append(_PendingWrite(frame, done))
        self._wakeup.set()
        try:
            return await done
        except asyncio.CancelledError:
            # Written, but nobody will ever release it: let its segment go.
            if done.done() and not done.cancelled() and done.exception() is None:
                self.release([done.result()])
            raise

    async def _flush_loop(self) -> None:
        """Group commit: everything appended while one flush runs goes into the
        next one. Never dies: a failure fails only the appends of its flush."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch = [item for item in self._queue if not item.done.done()]
            self._queue = []
            if batch:
                try:
                    await self._flush(batch)
                except Exception as e:  # a bug: fail these appends, keep flushing
                    log.exception("spool flush failed")
                    _fail(batch, e)
            if self._closed and not self._queue:
                return

    async def _flush(self, batch: list[_PendingWrite]) -> None:
        plan = self._plan(batch)
        self._writing = {w.segment for w in plan}
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(
                self._writer, self._write_plan, plan
            )
        finally:
            self._writing = set()
        before = self._segment
        for w in plan[: outcome.written]:
            self._segment, self._length = w.segment, w.end
            offset = w.start
            for item in w.items:
                record = SpoolRecord(
                    w.segment, offset + _HEADER.size, len(item.frame) - _HEADER.size
                )
                offset += len(item.frame)
                if not item.done.done():
                    self._refs[w.segment] = self._refs.get(w.segment, 0) + 1
                    item.done.set_result(record)
        if outcome.error is not None:
            failed = plan[outcome.written]
            self._segment, self._length = failed.segment, failed.start
            if outcome.retired:
                self._segment, self._length = failed.segment + 1, 0
            self._failed(outcome.error, [i for w in plan[outcome.written :] for i in w.items])
        elif self._failing_since is not None:
            self._recovered()
        self._refs.setdefault(self._segment, 0)
        for segment in range(before, self._segment):
            self._drop_if_unused(segment)

    def _plan(self, batch: list[_PendingWrite]) -> list[_SegmentWrite]:
        """Offsets as they will be if every write succeeds (the state changes
        only for what actually is written)."""
        plan: list[_SegmentWrite] = []
        segment, length = self._segment, self._length
        for item in batch:
            if length and length + len(item.frame) > self.segment_bytes:
                segment, length = segment + 1, 0
            if not plan or plan[-1].segment != segment:
                plan.append(_SegmentWrite(segment, length))
            plan[-1].items.append(item)
            length += len(item.frame)
        return plan

    def _failed(self, error: BaseException, items: list[_PendingWrite]) -> None:
        self.failed_flushes += 1
        if not isinstance(error, OSError):
            log.error("spool write failed unexpectedly", exc_info=error)
            _fail(items, error)
            return
        if self._failing_since is None:
            # One line per episode, not per batch: a full disk fails every flush.
            self._failing_since = time.monotonic()
            self._failed_in_episode = 0
            log.error(
                "spool %s cannot write (%s): batches are refused with "
                "storage_unavailable (recorders retry) until it can",
                self.directory,
                error,
            )
        self._failed_in_episode += 1
        message = f"this node cannot store data now ({error.strerror or error})"
        for item in items:
            if not item.done.done():
                # One exception each: every waiter raises (and so mutates) its own.
                problem = Unavailable(message)
                problem.__cause__ = error
                item.done.set_exception(problem)

    def _recovered(self) -> None:
        assert self._failing_since is not None
        log.warning(
            "spool %s writes again, after %d failed flushes in %.1f s",
            self.directory,
            self._failed_in_episode,
            time.monotonic() - self._failing_since,
        )
        self._failing_since = None

    # -- the writer thread ----------------------------------------------------

    def _write_plan(self, plan: list[_SegmentWrite]) -> _Outcome:
        """One write and one fdatasync per segment touched. Stops at the first
        failure and leaves that segment as it was before (or retires it)."""
        outcome = _Outcome(0)
        for w in plan:
            try:
                fd = self._fd(w.segment)
            except Exception as e:  # nothing written; a later flush tries again
                outcome.error = e
                break
            try:
                _pwrite_all(fd, b"".join(item.frame for item in w.items), w.start)
            except Exception as e:
                outcome.error = e
                outcome.retired = not _truncate(fd, w.start)
                break
            try:
                os.fdatasync(fd)
            except Exception as e:
                # After a failed fsync the kernel may have dropped dirty pages it
                # still reports as written: no record goes into this segment again.
                outcome.error, outcome.retired = e, True
                _truncate(fd, w.start)
                break
            self.fsync_count += 1
            outcome.written += 1
        keep = None
        if outcome.error is None:
            keep = plan[-1].segment
        elif not outcome.retired:
            keep = plan[outcome.written].segment
        for segment in [s for s in self._fds if s != keep]:
            with contextlib.suppress(OSError):  # the descriptor is released anyway
                os.close(self._fds.pop(segment))
        return outcome

    def _fd(self, segment: int) -> int:
        fd = self._fds.get(segment)
        if fd is None:
            fd = os.open(self._path(segment), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                fsync_dir(self.directory)  # the new file's name is durable too
            except BaseException:
                os.close(fd)
                raise
            self._fds[segment] = fd
        return fd

    def _drop_sync(self, segment: int) -> None:
        fd = self._fds.pop(segment, None)
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self._path(segment).unlink()

    def _close_all(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    # -- reading and releasing ------------------------------------------------

    async def read_many(self, records: list[SpoolRecord]) -> list[bytes]:
        return await asyncio.to_thread(self._read_many_sync, records)

    def _read_many_sync(self, records: list[SpoolRecord]) -> list[bytes]:
        out: list[bytes] = []
        handles: dict[int, int] = {}
        try:
            for rec in records:
                fd = handles.get(rec.segment)
                if fd is None:
                    fd = os.open(self._path(rec.segment), os.O_RDONLY)
                    handles[rec.segment] = fd
                out.append(os.pread(fd, rec.length, rec.offset))
        finally:
            for fd in handles.values():
                os.close(fd)
        return out

    def release(self, records: list[SpoolRecord]) -> None:
        """These records are now in stored chunks: their segments may go."""
        for rec in records:
            if rec.segment in self._refs:
                self._refs[rec.segment] -= 1
                self._drop_if_unused(rec.segment)

    def _drop_if_unused(self, segment: int) -> None:
        """Delete a segment no record is wanted from and no write will go to."""
        if self._refs.get(segment, 0) > 0 or segment == self._segment:
            return
        if segment in self._writing:
            return
        self._refs.pop(segment, None)
        if self._stopped:
            self._drop_sync(segment)
            return
        # On the writer thread, which owns the descriptors: after any write in flight.
        self._writer.submit(self._drop_sync, segment).add_done_callback(_log_drop_failure)

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:010d}{_SUFFIX}"

    @property
    def backlog_segments(self) -> int:
        return len(self._refs)


def read_segment(path: Path) -> Iterator[bytes]:
    """Payloads of a leftover segment, in order, up to the first torn or bad record."""
    data = path.read_bytes()
    offset = 0
    while offset + _HEADER.size <= len(data):
        magic, length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if magic != _MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
            log.warning("spool %s: torn or corrupt record at %d; rest ignored", path, offset)
            return
        yield payload
        offset = start + length


def _fail(items: list[_PendingWrite], error: BaseException) -> None:
    for item in items:
        if not item.done.done():
            item.done.set_exception(error)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    written = 0
    while written < len(view):
        n = os.pwrite(fd, view[written:], offset + written)
        if n <= 0:
            raise OSError(errno.EIO, "spool write made no progress")
        written += n


def _truncate(fd: int, length: int) -> bool:
    """Cut a failed write off (and make that durable); False if even that fails."""
    try:
        os.ftruncate(fd, length)
        os.fdatasync(fd)
    except OSError:
        return False
    return True


def _log_drop_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        # The records are chunked already: a leftover segment only costs space
        # (and is recovered, as duplicates, at the next start).
        log.warning("could not delete a released spool segment: %s", error)


def _segment_number(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return 0
