"""The work behind `replay-server retention [--dry-run]` and `replay-server
delete-visitor`: the same code the server and the API use (retention.py,
erasure.py), with a progress bar and a summary for the operator."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from replay_server.db.models import RecordedSession, Site
from replay_server.errors import NotFound
from replay_server.privacy.erasure import Erased, SessionRef, erase_sessions
from replay_server.privacy.retention import (
    DAY_MS,
    SweepReport,
    count_expired,
    expire_rollups,
    sweep,
)
from replay_server.settings import Settings
from replay_server.stores import open_stores


async def run_retention(settings: Settings, now_ms: int, dry_run: bool) -> str:
    async with open_stores(settings) as (db, blobs):
        total = await count_expired(db, now_ms)
        if total == 0:
            message = "retention: no session is past its site's retention"
            if not dry_run:
                first_kept = now_ms // DAY_MS - settings.insights_retention_days
                rows = await expire_rollups(db, first_kept)
                message += f"; {rows} insight rollup rows of older days deleted" if rows else ""
            return message
        label = "measuring" if dry_run else "deleting expired sessions"
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            report = await sweep(
                db,
                blobs,
                now_ms,
                dry_run=dry_run,
                progress=bar.update,
                insights_days=settings.insights_retention_days,
            )
    return retention_summary(report)


def retention_summary(report: SweepReport) -> str:
    verb = "would delete" if report.dry_run else "deleted"
    lines = [f"retention: {verb} {_describe(report.total, report.dry_run)}"]
    if report.rollup_rows:
        lines.append(f"  insight rollups: {report.rollup_rows} rows of older days deleted")
    for site_id, erased in sorted(report.by_site.items()):
        lines.append(f"  site {site_id}: {_describe(erased, report.dry_run)}")
    return "\n".join(lines)


def _describe(e: Erased, dry_run: bool) -> str:
    blobs = "" if dry_run else f", {e.blobs} blobs"
    return (
        f"{e.sessions} sessions ({e.chunks} chunks{blobs}, {e.page_views} page views, "
        f"{e.stored_bytes} stored bytes)"
    )


async def run_delete_visitor(settings: Settings, site_id: int, visitor_id: str) -> str:
    async with open_stores(settings) as (db, blobs):
        async with db() as session:
            if await session.get(Site, site_id) is None:
                raise NotFound(f"no site with id {site_id}")
            ids = list(
                await session.scalars(
                    select(RecordedSession.id).where(
                        RecordedSession.site_id == site_id,
                        RecordedSession.visitor_id == visitor_id,
                    )
                )
            )
        erased = await erase_sessions(db, blobs, [SessionRef(i, site_id) for i in ids])
    return f"visitor {visitor_id} on site {site_id}: deleted {_describe(erased, False)}"
