"""The server's side of its frame worker processes (frame_worker).

A frame goes down a pipe to the worker its session is pinned to, and the
prepared batch comes back; the event loop spends a pipe write and a callback
on it instead of the ~0.2 ms of decoding, validating and masking. Pipes
are driven by the event loop itself (no thread, no executor: a
ProcessPoolExecutor round trip costs more than preparing a small batch).

Workers start on first use. One that dies (killed, out of memory) fails
the frames it held with a server error (their recorders reconnect and
resend) and is started again for the next frame; the sessions pinned to it
lose their masking state, so values of nodes it no longer knows are masked.
One that dies before answering anything (it cannot start) is retried after
a growing delay, frames failing meanwhile, instead of once per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from replay_server.errors import ReplayError
from replay_server.ingest.prep.http_body import HttpFrames
from replay_server.ingest.prep.preparer import FrameContext, PreparedBatch
from replay_server.ingest.prep.wire import (
    MessageReader,
    Reply,
    forget_request,
    prepare_request,
    read_reply,
    split_request,
)
from replay_server.ingest.prep.worker import WorkerConfig

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 5.0
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


class WorkerLost(ReplayError):
    """The worker preparing a frame died or failed: the recorder reconnects and resends."""

    code = "server_error"
    http_status = 503
    ws_close_code = 1011


def _checked(reply: Reply | str) -> PreparedBatch | HttpFrames | None:
    if isinstance(reply, str):
        # The failure's text (an exception, maybe with paths or data) is for the
        # log only; the recorder gets the documented code and a generic message.
        log.error("frame worker failed on a frame: %s", reply)
        raise WorkerLost("frame worker failed")
    if isinstance(reply, ReplayError):
        raise reply
    return reply


class _Worker(asyncio.SubprocessProtocol):
    def __init__(self, index: int) -> None:
        self.index = index
        self.transport: asyncio.SubprocessTransport | None = None
        self.stdin: asyncio.WriteTransport | None = None
        self.alive = True
        self.answered = False  # it started well: it replied to something
        self.exited = asyncio.get_running_loop().create_future()
        self._waiting: dict[int, asyncio.Future[Reply | str]] = {}
        self._ids = itertools.count()
        self._reader = MessageReader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport
        stdin = transport.get_pipe_transport(0)
        assert isinstance(stdin, asyncio.WriteTransport)
        self.stdin = stdin

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.answered = True
        for body in self._reader.feed(data):
            request_id, reply = read_reply(body)
            waiter = self._waiting.pop(request_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reply)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 0:
            self._lost()

    def process_exited(self) -> None:
        self._lost()
        code = self.transport.get_returncode() if self.transport is not None else None
        if not self.exited.done():
            self.exited.set_result(code)

    def _lost(self) -> None:
        if not self.alive:
            return
        self.alive = False
        waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            if not waiter.done():
                waiter.set_exception(WorkerLost("frame worker process died"))

    async def ask(self, frame: bytes, context: FrameContext) -> Reply | str:
        return await self._ask(lambda request_id: prepare_request(request_id, frame, context))

    async def ask_split(self, body: bytes, content_type: str) -> Reply | str:
        return await self._ask(lambda request_id: split_request(request_id, body, content_type))

    async def _ask(self, request: Callable[[int], bytes]) -> Reply | str:
        request_id = next(self._ids)
        waiter: asyncio.Future[Reply | str] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        assert self.stdin is not None
        self.stdin.write(request(request_id))
        try:
            return await waiter
        finally:
            self._waiting.pop(request_id, None)

    def tell_forget(self, sid: str) -> None:
        if self.alive and self.stdin is not None:
            self.stdin.write(forget_request(sid))

    @property
    def pid(self) -> int | None:
        return self.transport.get_pid() if self.transport is not None else None

    async def stop(self) -> None:
        """Close its stdin (it finishes what it holds and exits); kill it if it lingers."""
        if self.transport is None:
            return
        if self.stdin is not None:
            self.stdin.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.transport.kill()
            await self.exited
        self.transport.close()


class FrameWorkers:
    """`count` worker processes; a session's frames always go to the same one."""

    def __init__(self, count: int, config: WorkerConfig) -> None:
        if count < 1:
            raise ValueError("FrameWorkers needs at least one worker")
        self._config = config
        self._workers: list[_Worker | None] = [None] * count
        self._starting: list[asyncio.Lock] = [asyncio.Lock() for _ in range(count)]
        self._spread = itertools.count()  # frames before hello: any worker will do
        self._failed_starts = [0] * count
        self._retry_at = [0.0] * count
        self._closed = False
        self.starts = 0  # processes started, restarts included

    @property
    def count(self) -> int:
        return len(self._workers)

    async def prepare(self, frame: bytes, context: FrameContext) -> PreparedBatch | None:
        """The prepared batch, or None for hello/bye. Raises the ReplayError the
        frame deserves, or WorkerLost when its worker died meanwhile."""
        worker = await self._worker(self._index(context.sid))
        reply = _checked(await worker.ask(frame, context))
        if isinstance(reply, HttpFrames):
            raise WorkerLost("frame worker answered a frame with an HTTP split")
        return reply

    async def split(self, body: bytes, content_type: str) -> HttpFrames:
        """An HTTP fallback body as frames (http_body), decoded in a worker."""
        worker = await self._worker(self._index(None))
        reply = _checked(await worker.ask_split(body, content_type))
        if not isinstance(reply, HttpFrames):
            raise WorkerLost("frame worker answered an HTTP split with something else")
        return reply

    def forget(self, sid: str) -> None:
        worker = self._workers[self._index(sid)]
        if worker is not None:
            worker.tell_forget(sid)

    def pids(self) -> list[int]:
        return [w.pid for w in self._workers if w is not None and w.alive and w.pid is not None]

    async def close(self) -> None:
        self._closed = True
        workers = [w for w in self._workers if w is not None]
        self._workers = [None] * len(self._workers)
        await asyncio.gather(*(w.stop() for w in workers))

    def _index(self, sid: str | None) -> int:
        if sid is None:
            return next(self._spread) % len(self._workers)
        return zlib.crc32(sid.encode()) % len(self._workers)

    async def _worker(self, index: int) -> _Worker:
        worker = self._workers[index]
        if worker is not None and worker.alive:
            return worker
        async with self._starting[index]:
            worker = self._workers[index]
            if worker is not None and worker.alive:
                return worker
            if worker is not None:
                self._workers[index] = None
                self._exited(index, worker)
            if time.monotonic() < self._retry_at[index]:
                raise WorkerLost("frame worker is restarting")
            worker = self._workers[index] = await self._start(index)
            return worker

    def _exited(self, index: int, worker: _Worker) -> None:
        if worker.transport is not None:
            worker.transport.close()
        code = worker.exited.result() if worker.exited.done() else None
        if worker.answered:
            self._failed_starts[index] = 0
            log.error("frame worker %d exited (code %s); starting a new one", index, code)
            return
        self._failed_starts[index] += 1
        delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (self._failed_starts[index] - 1))
        self._retry_at[index] = time.monotonic() + delay
        log.error(
            "frame worker %d exited (code %s) before answering; next start in %.1f s",
            index,
            code,
            delay,
        )

    async def _start(self, index: int) -> _Worker:
        if self._closed:
            raise WorkerLost("the server is shutting down")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        loop = asyncio.get_running_loop()
        self.starts += 1
        _, worker = await loop.subprocess_exec(
            lambda: _Worker(index),
            sys.executable,
            "-m",
            "replay_server.ingest.prep.worker",
            self._config.to_json(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
        )
        return worker
