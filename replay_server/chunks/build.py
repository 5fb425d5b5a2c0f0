"""Building chunks in a worker process.

Turning spooled batches into chunks (decode the msgpack, analyse behaviour,
sort, encode, compress) is pure Python work, ~0.3 ms per batch. In a thread
of the server it would hold the interpreter lock: the event loop gives the
lock up at every socket call and then waits up to the switch interval (5 ms)
to get it back, so acks would queue behind chunking. A worker process runs
on another core and shares no lock; only bytes cross the process boundary
(spool payloads in, compressed chunks out).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from replay_server.chunks.cut import BuiltChunk, build_chunks
from replay_server.chunks.format import ChunkDictionary
from replay_server.enrich.behaviour import ChunkInsights, InsightCarry, analyse_batches
from replay_server.spool.records import RawEntry, decode_spool_payload

log = logging.getLogger(__name__)
T = TypeVar("T")


class BuildFailed(Exception):
    """Building chunks of these batches failed: a record that cannot be
    chunked, or the worker process died while building them."""


@dataclass(frozen=True)
class BuiltCut:
    chunks: list[BuiltChunk]
    insights: ChunkInsights
    carry: InsightCarry  # the carry after these batches


@dataclass(frozen=True)
class BuildResult:
    """A cut built around records that could not be chunked (`quarantined`:
    their rows, each holding the record as it is; `failure`: why)."""

    chunks: list[BuiltChunk]
    insights: ChunkInsights
    carry: InsightCarry
    quarantined: list[BuiltChunk] = field(default_factory=list)
    failure: str = ""

    @classmethod
    def of(cls, cut: BuiltCut) -> BuildResult:
        return cls(cut.chunks, cut.insights, cut.carry)


def build_cut(
    payloads: list[bytes],
    carry: InsightCarry,
    facts: bool = True,
    dictionary: ChunkDictionary | None = None,
) -> BuiltCut:
    """The chunks and behaviour counts of spooled batches (given in seq order),
    with the page views' facts for the insight rollups when `facts` is on,
    compressed with the site's `dictionary` (if it has one)."""
    batches = [decode_spool_payload(p) for p in payloads]
    insights = analyse_batches(batches, carry, facts)
    return BuiltCut(build_chunks(batches, dictionary), insights, carry)


class ChunkBuilder:
    """A pool of `workers` processes (started on first use); 0 builds in a
    thread of this process instead (small deployments, one core). `facts`:
    extract the insight facts too (REPLAY_INSIGHTS)."""

    def __init__(self, workers: int, facts: bool = True) -> None:
        self._workers = workers
        self._facts = facts
        self._pool: ProcessPoolExecutor | None = None

    async def build(
        self,
        batches: list[RawEntry],
        carry: InsightCarry,
        dictionary: ChunkDictionary | None = None,
    ) -> BuiltCut:
        """`carry` is not modified: the result holds the carry after the cut.
        The dictionary (16 KB) travels with each cut; the worker keeps its
        compressor per dictionary (chunks/format.py)."""
        payloads = [b.payload for b in batches]
        if self._workers <= 0:
            # A copy of the carry, as a worker process would get.
            try:
                return await asyncio.to_thread(
                    build_cut, payloads, copy.deepcopy(carry), self._facts, dictionary
                )
            except Exception as e:
                raise BuildFailed(f"{type(e).__name__}: {e}") from e
        pool = self._pool_now()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, build_cut, payloads, carry, self._facts, dictionary
            )
        except BrokenProcessPool as e:
            # A worker died (killed, out of memory): the next build starts a new pool.
            log.error("chunk worker process died; starting a new one")
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise BuildFailed("the chunk worker died") from e
        except Exception as e:
            # Raised by build_cut itself: something in these records.
            raise BuildFailed(f"{type(e).__name__}: {e}") from e

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Other CPU work on bytes (dictionary training): in a worker process
        like a cut (in a thread with no workers). Raises what `fn` raises."""
        if self._workers <= 0:
            return await asyncio.to_thread(fn, *args)
        pool = self._pool_now()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool as e:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise BuildFailed("the chunk worker died") from e

    def _pool_now(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
            )
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True)


def _exit_with_parent() -> None:
    """In the worker: leave when the server is gone, even after a kill -9 that
    gave it no chance to shut the pool down."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
