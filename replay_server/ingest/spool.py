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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

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
    segment: int
    frame: bytes
    done: asyncio.Future[None]


class Spool:
    def __init__(self, directory: Path, segment_bytes: int) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._segment = 0
        self._offset = 0
        self._refs: dict[int, int] = {}
        self._queue: list[_PendingWrite] = []
        self._wakeup = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._fds: dict[int, int] = {}
        self._closed = False
        self.fsync_count = 0
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
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        existing = [_segment_number(p) for p in self.leftover_segments()]
        self._segment = max(existing, default=0) + 1
        self._offset = 0
        self._refs[self._segment] = 0
        self._flusher = asyncio.create_task(self._flush_loop(), name="spool-flusher")

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self._flusher is not None:
            await self._flusher
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self._writer.shutdown(wait=True)

    # -- writing ------------------------------------------------------------

    async def append(self, payload: bytes) -> SpoolRecord:
        """Append `payload`; return once it is on disk (fsync'd)."""
        if self._closed:
            raise RuntimeError("spool is closed")
        frame = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        if self._offset and self._offset + len(frame) > self.segment_bytes:
            self._rotate()
        record = SpoolRecord(self._segment, self._offset + _HEADER.size, len(payload))
        self._offset += len(frame)
        self._refs[self._segment] += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_PendingWrite(self._segment, frame, done))
        self._wakeup.set()
        await done
        return record

    def _rotate(self) -> None:
        previous = self._segment
        self._segment += 1
        self._offset = 0
        self._refs[self._segment] = 0
        if self._refs.get(previous) == 0:
            self._drop_segment(previous)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._queue = self._queue, []
            if batch:
                try:
                    await loop.run_in_executor(self._writer, self._write_and_sync, batch)
                except OSError as e:
                    log.error("spool write failed: %s", e)
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(e)
                    continue
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)
            if self._closed and not self._queue:
                return

    def _write_and_sync(self, batch: list[_PendingWrite]) -> None:
        """Runs in a thread: one write and one fdatasync per segment touched."""
        by_segment: dict[int, list[bytes]] = {}
        for item in batch:
            by_segment.setdefault(item.segment, []).append(item.frame)
        for segment, frames in by_segment.items():
            fd = self._fd(segment)
            data = b"".join(frames)
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fdatasync(fd)
            self.fsync_count += 1
        for segment in list(self._fds):
            if segment < self._segment:
                os.close(self._fds.pop(segment))

    def _fd(self, segment: int) -> int:
        fd = self._fds.get(segment)
        if fd is None:
            path = self._path(segment)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            _fsync_dir(self.directory)
            self._fds[segment] = fd
        return fd

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
            left = self._refs.get(rec.segment, 0) - 1
            self._refs[rec.segment] = left
            if left <= 0 and rec.segment != self._segment:
                self._drop_segment(rec.segment)

    def _drop_segment(self, segment: int) -> None:
        self._refs.pop(segment, None)
        fd = self._fds.pop(segment, None)
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self._path(segment).unlink()

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


def _segment_number(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
