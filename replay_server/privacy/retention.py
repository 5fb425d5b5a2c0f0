"""Retention: sessions are kept as long as their site's `retention_days` setting
says (default 30 days after the session was last heard from), then deleted with
everything they stored (erasure.py). The insight rollups, counts without any
visitor or session id, are kept REPLAY_INSIGHTS_RETENTION_DAYS (default 400)
and the same sweep deletes older days. One sweep is `sweep()`; the server runs it
periodically (`RetentionSweeper`, REPLAY_RETENTION_SWEEP_SECONDS) and
`replay-server retention [--dry-run]` runs it on demand. "Now" is a parameter,
so a sweep can be asked about any moment (tests move the clock forward)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, select

from replay_server.accounts.site_settings import SiteSettings
from replay_server.db.engine import SessionFactory
from replay_server.db.models import CHUNKS, DICTIONARIES, RecordedSession, Site
from replay_server.db.rollup_tables import INSIGHT_ROLLUPS
from replay_server.privacy.erasure import Erased, SessionRef, erase_sessions, measure
from replay_server.storage.base import BlobStore
from replay_server.timeutil import now_ms

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
BATCH_SIZE = 200
FIRST_SWEEP_DELAY_SECONDS = 60.0
# A superseded site dictionary is kept this long after its successor appeared,
# even when no chunk names it: writers pick up a new dictionary within a minute
# (chunks/dictionary_store.py) and may be compressing with the old one until then.
DICTIONARY_GRACE_MS = 3_600_000

Progress = Callable[[int], None]


def retention_days(settings: Mapping[str, Any]) -> int:
    """The site's retention in days; a missing or invalid value is the default."""
    return SiteSettings.from_stored(settings).retention_days


@dataclass(frozen=True)
class SiteRetention:
    site_id: int
    days: int
    cutoff_ms: int  # sessions last heard from before this are expired

    def expired(self) -> Select[str]:
        return select(RecordedSession.id).where(
            RecordedSession.site_id == self.site_id,
            RecordedSession.last_seen_ms < self.cutoff_ms,
        )


@dataclass
class SweepReport:
    dry_run: bool
    total: Erased = field(default_factory=Erased)
    by_site: dict[int, Erased] = field(default_factory=dict)
    rollup_rows: int = 0  # insight rollup rows of days past REPLAY_INSIGHTS_RETENTION_DAYS
    dictionaries: int = 0  # site dictionaries no chunk needs any more


async def site_retentions(db: SessionFactory, now_ms: int) -> list[SiteRetention]:
    async with db() as session:
        rows = (await session.execute(select(Site.id, Site.settings).order_by(Site.id))).all()
    policies = []
    for site_id, settings in rows:
        days = SiteSettings.from_stored(settings).retention_days
        policies.append(SiteRetention(site_id, days, now_ms - days * DAY_MS))
    return policies


async def count_expired(db: SessionFactory, now_ms: int) -> int:
    total = 0
    async with db() as session:
        for policy in await site_retentions(db, now_ms):
            expired = policy.expired().subquery()
            total += int(await session.scalar(select(func.count()).select_from(expired)) or 0)
    return total


async def sweep(
    db: SessionFactory,
    blobs: BlobStore,
    now_ms: int,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    insights_days: int | None = None,
) -> SweepReport:
    """Delete (or, with `dry_run`, measure) every session past its site's
    retention, and the insight rollups' days older than `insights_days`."""
    report = SweepReport(dry_run)
    if insights_days is not None and not dry_run:
        report.rollup_rows = await expire_rollups(db, now_ms // DAY_MS - insights_days)
    for policy in await site_retentions(db, now_ms):
        if dry_run:
            async with db() as session:
                ids = list(await session.scalars(policy.expired()))
                erased = await measure(session, ids)
        else:
            erased = await _delete_expired(db, blobs, policy, progress, batch_size)
        if erased.sessions:
            report.by_site[policy.site_id] = erased
            report.total.add(erased)
        if dry_run and progress is not None:
            progress(erased.sessions)
    if not dry_run:
        report.dictionaries = await expire_dictionaries(db, now_ms)
    return report


async def expire_dictionaries(db: SessionFactory, now_ms: int) -> int:
    """Delete the site dictionaries that no chunk names and that a newer one of
    their site replaced more than DICTIONARY_GRACE_MS ago; how many. A site's
    newest is kept (new chunks use it); a deleted site's go with it (cascade)."""
    old = DICTIONARIES.alias("old")
    newer = DICTIONARIES.alias("newer")
    superseded = exists().where(
        and_(
            newer.c.site_id == old.c.site_id,
            newer.c.id > old.c.id,
            newer.c.created_ms < now_ms - DICTIONARY_GRACE_MS,
        )
    )
    needed = exists().where(CHUNKS.c.dictionary_id == old.c.id)
    async with db() as session, session.begin():
        ids = list(await session.scalars(select(old.c.id).where(superseded, ~needed)))
        if ids:
            await session.execute(delete(DICTIONARIES).where(DICTIONARIES.c.id.in_(ids)))
    return len(ids)


async def expire_rollups(db: SessionFactory, first_kept_day: int) -> int:
    """Delete the rollups' rows of days before `first_kept_day`; how many."""
    deleted = 0
    async with db() as session, session.begin():
        for table in INSIGHT_ROLLUPS:
            result = await session.execute(delete(table).where(table.c.day < first_kept_day))
            deleted += max(0, int(getattr(result, "rowcount", 0) or 0))
    return deleted


async def _delete_expired(
    db: SessionFactory,
    blobs: BlobStore,
    policy: SiteRetention,
    progress: Progress | None,
    batch_size: int,
) -> Erased:
    erased = Erased()
    while True:
        async with db() as session:
            ids = list(await session.scalars(policy.expired().limit(batch_size)))
        if not ids:
            return erased
        erased.add(await erase_sessions(db, blobs, [SessionRef(i, policy.site_id) for i in ids]))
        if progress is not None:
            progress(len(ids))


class RetentionSweeper:
    """Sweeps every `interval` seconds (the first time soon after start-up, so
    that frequent restarts do not postpone it forever); 0 disables it."""

    def __init__(
        self,
        db: SessionFactory,
        blobs: BlobStore,
        interval: float,
        clock: Callable[[], int] = now_ms,
        insights_days: int | None = None,
    ) -> None:
        self._db = db
        self._insights_days = insights_days
        self._blobs = blobs
        self._interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.create_task(self._loop(), name="retention-sweeper")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep_once(self) -> SweepReport:
        report = await sweep(
            self._db, self._blobs, self._clock(), insights_days=self._insights_days
        )
        if report.total.sessions:
            t = report.total
            log.info(
                "retention: deleted %d sessions (%d chunks, %d blobs, %d page views)",
                t.sessions,
                t.chunks,
                t.blobs,
                t.page_views,
            )
        if report.dictionaries:
            log.info("retention: deleted %d site dictionaries no chunk needs", report.dictionaries)
        return report

    async def _loop(self) -> None:
        delay = min(FIRST_SWEEP_DELAY_SECONDS, self._interval)
        while True:
            await asyncio.sleep(delay)
            delay = self._interval
            try:
                await self.sweep_once()
            except Exception:
                log.exception("retention sweep failed; retrying at the next interval")
