"""The background job that trains site dictionaries (chunks/dictionaries.py
says when and how): every `interval` seconds, the maintenance cadence of the
retention sweep (REPLAY_RETENTION_SWEEP_SECONDS; 0 disables both), it looks at
each site's stored volume and trains those that are due, one at a time.

Never on the ack path: reading the sample chunks is I/O on the event loop,
decoding them and training run in the chunk worker process (ChunkBuilder.run).
Several nodes may train one site at about the same time; that only adds a
dictionary (new chunks use the newest, the other is deleted by retention once
no chunk names it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.chunks.build import BuildFailed, ChunkBuilder
from replay_server.chunks.dictionaries import (
    MAX_SAMPLE_BYTES,
    RATIO_WINDOW,
    RETRAIN_AFTER_CHUNKS,
    SiteVolume,
    decide,
    train_from_chunks,
)
from replay_server.chunks.dictionary_store import (
    DictionaryCache,
    NewestDictionaries,
    add_dictionary,
)
from replay_server.chunks.format import QUARANTINED
from replay_server.chunks.reader import fetch_blobs
from replay_server.db.engine import SessionFactory
from replay_server.db.models import DICTIONARIES, Chunk, RecordedSession, Site
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms

log = logging.getLogger(__name__)

FIRST_RUN_DELAY_SECONDS = 60.0
RETRY_AFTER_SECONDS = 3600.0  # after a training that found too little to learn
SAMPLE_SESSIONS = 400  # the site's newest sessions the samples come from


class DictionaryTrainer:
    def __init__(
        self,
        db: SessionFactory,
        blobs: BlobStore,
        builder: ChunkBuilder,
        newest: NewestDictionaries | None = None,
        interval: float = 0.0,
        clock: Callable[[], int] = now_ms,
        retry_after: float = RETRY_AFTER_SECONDS,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._builder = builder
        self._newest = newest
        self._interval = interval
        self._clock = clock
        self._retry_after = retry_after
        self._not_before: dict[int, float] = {}
        self._dictionaries = DictionaryCache(db)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.create_task(self._loop(), name="dictionary-trainer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> list[int]:
        """Train every site that is due; the new dictionaries' ids."""
        async with self._db() as session:
            sites = list(await session.scalars(select(Site.id).order_by(Site.id)))
        trained = []
        for site_id in sites:
            if self._not_before.get(site_id, 0.0) > time.monotonic():
                continue
            if not decide(await self.volume(site_id)):
                continue
            new_id = await self.train_site(site_id)
            if new_id is None:
                self._not_before[site_id] = time.monotonic() + self._retry_after
            else:
                trained.append(new_id)
        return trained

    async def volume(self, site_id: int) -> SiteVolume:
        async with self._db() as session:
            newest = await session.scalar(
                select(func.max(DICTIONARIES.c.id)).where(DICTIONARIES.c.site_id == site_id)
            )
            if newest is not None:
                # Counting stops at the threshold: the index answers it, however many.
                using = (
                    select(Chunk.idx)
                    .where(Chunk.dictionary_id == int(newest))
                    .limit(RETRAIN_AFTER_CHUNKS)
                    .subquery()
                )
                count = int(await session.scalar(select(func.count()).select_from(using)) or 0)
                if count < 2 * RATIO_WINDOW:
                    return SiteVolume(0, 0, True, count)
                first, recent = await _ratios(session, int(newest))
                return SiteVolume(0, 0, True, count, first, recent)
            chunks, raw = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(RecordedSession.chunk_count), 0),
                        func.coalesce(func.sum(RecordedSession.raw_bytes), 0),
                    ).where(RecordedSession.site_id == site_id)
                )
            ).one()
        return SiteVolume(int(chunks), int(raw), False, 0)

    async def train_site(self, site_id: int) -> int | None:
        """Train a dictionary on the site's newest chunks and store it; its id,
        or None when there was too little to learn from."""
        rows = await self._sample_rows(site_id)
        blobs = await fetch_blobs(self._blobs, [r.blob_key for r, _ in rows])
        present = [
            (visitor, blob)
            for (_, visitor), blob in zip(rows, blobs, strict=True)
            if isinstance(blob, bytes)
        ]
        dictionaries = await self._dictionaries.get_many(r.dictionary_id for r, _ in rows)
        try:
            trained = await self._builder.run(
                train_from_chunks, present, list(dictionaries.values())
            )
        except BuildFailed as e:
            log.warning("site %d: dictionary training failed (%s)", site_id, e)
            return None
        if trained is None:
            log.info("site %d: too little to train a dictionary from yet", site_id)
            return None
        new_id = await add_dictionary(
            self._db,
            site_id,
            trained.data,
            trained.sample_count,
            trained.sample_bytes,
            self._clock(),
        )
        if self._newest is not None:
            self._newest.forget(site_id)
        log.info(
            "site %d: dictionary %d trained on %d samples (%d bytes)",
            site_id,
            new_id,
            trained.sample_count,
            trained.sample_bytes,
        )
        return new_id

    async def _sample_rows(self, site_id: int) -> list[tuple[Chunk, str]]:
        """The newest sessions' chunks and their visitors, newest first, up to
        about MAX_SAMPLE_BYTES."""
        sessions = (
            select(RecordedSession.id)
            .where(RecordedSession.site_id == site_id, RecordedSession.chunk_count > 0)
            .order_by(RecordedSession.started_ms.desc())
            .limit(SAMPLE_SESSIONS)
        )
        async with self._db() as session:
            chunks = await session.execute(
                select(Chunk, RecordedSession.visitor_id)
                .join(RecordedSession, RecordedSession.id == Chunk.session_id)
                .where(Chunk.session_id.in_(sessions), Chunk.format_version != QUARANTINED)
                .order_by(Chunk.created_ms.desc(), Chunk.session_id, Chunk.idx)
            )
            rows: list[tuple[Chunk, str]] = []
            total = 0
            for chunk, visitor in chunks:
                if total >= MAX_SAMPLE_BYTES:
                    break
                rows.append((chunk, str(visitor)))
                total += chunk.raw_bytes
        return rows

    async def _loop(self) -> None:
        delay = min(FIRST_RUN_DELAY_SECONDS, self._interval)
        while True:
            await asyncio.sleep(delay)
            delay = self._interval
            try:
                await self.run_once()
            except Exception:
                log.exception("dictionary training failed; retrying at the next interval")


async def _ratios(session: AsyncSession, dictionary_id: int) -> tuple[float, float]:
    """Stored / msgpack bytes of the first and of the newest RATIO_WINDOW
    chunks compressed with the dictionary (at most RETRAIN_AFTER_CHUNKS rows
    are sorted: the site is retrained by then)."""
    ratios = []
    for order in (Chunk.created_ms.asc(), Chunk.created_ms.desc()):
        window = (
            select(Chunk.stored_bytes, Chunk.raw_bytes)
            .where(Chunk.dictionary_id == dictionary_id)
            .order_by(order)
            .limit(RATIO_WINDOW)
            .subquery()
        )
        stored, raw = (
            await session.execute(
                select(
                    func.coalesce(func.sum(window.c.stored_bytes), 0),
                    func.coalesce(func.sum(window.c.raw_bytes), 0),
                )
            )
        ).one()
        ratios.append(int(stored) / int(raw) if raw else 0.0)
    return ratios[0], ratios[1]
