"""The work behind `replay-server insights rebuild`, with a progress bar and a
summary for the operator."""

from __future__ import annotations

import sys

import click

from replay_server.db.models import Site
from replay_server.errors import NotFound
from replay_server.insights.rebuild import count_sessions_of, rebuild
from replay_server.settings import Settings
from replay_server.stores import open_stores


async def run_rebuild(settings: Settings, site_id: int | None) -> str:
    async with open_stores(settings) as (db, blobs):
        if site_id is not None:
            async with db() as session:
                if await session.get(Site, site_id) is None:
                    raise NotFound(f"no site with id {site_id}")
        total = await count_sessions_of(db, site_id)
        with click.progressbar(length=total, label="counting sessions", file=sys.stderr) as bar:
            report = await rebuild(db, blobs, site_id, progress=bar.update)
    summary = (
        f"insights: rebuilt the rollups of {report.sites} site(s) from {report.sessions} sessions"
    )
    if report.unreadable_chunks:
        summary += f" ({report.unreadable_chunks} chunks could not be read and were left out)"
    return summary
