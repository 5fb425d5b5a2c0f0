"""The insight rollups (counts, no ids) are kept REPLAY_INSIGHTS_RETENTION_DAYS
whatever the sites' session retention: a sweep deletes older days of every
rollup table, and nothing newer; a dry run deletes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from replay_server.db.engine import SessionFactory
from replay_server.db.rollup_tables import (
    InsightDay,
    InsightElement,
    InsightPage,
    InsightPoint,
    InsightScroll,
)
from replay_server.privacy.retention import DAY_MS, sweep
from replay_server.storage.local import LocalBlobStore
from replay_server.timeutil import now_ms
from tests.conftest import Tenant

MODELS = (InsightDay, InsightPage, InsightElement, InsightPoint, InsightScroll)


async def add_rollups(db: SessionFactory, site_id: int, day: int) -> None:
    async with db() as s, s.begin():
        s.add(InsightDay(site_id=site_id, day=day, device="desktop", browser="Chrome", os="Windows",
                         country="DE", referrer="", sessions=3, visitors=2))  # fmt: skip
        s.add(InsightPage(site_id=site_id, day=day, path="/", device="desktop", views=4))
        s.add(InsightElement(site_id=site_id, path="/", device="desktop", day=day,
                             selector="button#buy", clicks=2))  # fmt: skip
        s.add(InsightPoint(site_id=site_id, path="/", device="desktop", day=day, cell_x=1,
                           cell_y=2, clicks=2))  # fmt: skip
        s.add(
            InsightScroll(site_id=site_id, path="/", device="desktop", day=day, depth=50, views=1)
        )


async def days_left(db: SessionFactory) -> set[tuple[str, int]]:
    async with db() as s:
        left: set[tuple[str, int]] = set()
        for model in MODELS:
            for (day,) in await s.execute(select(model.day)):
                left.add((model.__tablename__, int(day)))
        return left


@pytest.mark.parametrize("dry_run", [False, True])
async def test_sweep_deletes_rollup_days_past_their_retention(
    db: SessionFactory, tenant: Tenant, tmp_path: Path, dry_run: bool
) -> None:
    today = now_ms() // DAY_MS
    for age in (0, 399, 400, 401, 900):
        await add_rollups(db, tenant.site_id, today - age)
    blobs = LocalBlobStore(tmp_path / "blobs")
    report = await sweep(db, blobs, now_ms(), dry_run=dry_run, insights_days=400)
    left = await days_left(db)
    kept_ages = (0, 399, 400, 401, 900) if dry_run else (0, 399, 400)
    assert left == {(m.__tablename__, today - age) for m in MODELS for age in kept_ages}
    assert report.rollup_rows == (0 if dry_run else 2 * len(MODELS))
    async with db() as s:
        assert await s.scalar(select(func.count()).select_from(InsightDay)) == len(kept_ages)
