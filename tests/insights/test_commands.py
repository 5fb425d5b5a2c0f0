"""`replay-server insights rebuild [--site ID]` as a subprocess, on the data
dir of an app that recorded visits: after the rollups are lost (data recorded
before they existed), the command counts them again, row for row."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import delete, update

from replay_server.db.engine import SessionFactory
from replay_server.db.models import PAGE_VIEWS, SESSIONS
from replay_server.db.rollup_tables import ELEMENT_CLICKS, INSIGHT_ROLLUPS
from replay_server.settings import Settings
from tests.browser import Client
from tests.conftest import MakeTenant
from tests.insights.test_stats import ORIGIN, record, rollup_rows


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPLAY_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "replay_server", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_rebuild_counts_data_recorded_before_the_rollups(
    client: Client, db: SessionFactory, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant("cli", origin=ORIGIN)
    await record(client, db, tenant.site_key)
    counted = await rollup_rows(db)
    async with db() as s, s.begin():  # as if recorded with REPLAY_INSIGHTS=false
        for table in (*INSIGHT_ROLLUPS, ELEMENT_CLICKS):
            await s.execute(delete(table))
        await s.execute(update(PAGE_VIEWS).values(counted=False, scroll_pct=-1, time_ms=0))
        await s.execute(update(SESSIONS).values(counted_pages=0))
    assert all(not rows for rows in (await rollup_rows(db)).values())
    done = cli(settings, "insights", "rebuild", "--site", str(tenant.site_id))
    assert done.returncode == 0, done.stderr
    assert "rebuilt the rollups of 1 site(s) from 5 sessions" in done.stdout
    assert await rollup_rows(db) == counted
    again = cli(settings, "insights", "rebuild")  # every site: the same again
    assert again.returncode == 0, again.stderr
    assert await rollup_rows(db) == counted
    missing = cli(settings, "insights", "rebuild", "--site", "9999")
    assert missing.returncode == 1 and "no site with id 9999" in missing.stderr
