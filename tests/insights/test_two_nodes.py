"""Two server nodes on one PostgreSQL database count the rollups of one
visitor's sessions at the same moment: the visitor is counted once a day
(a lock per visitor), and every page view once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from replay_server import keys
from replay_server.db.models import PageView
from replay_server.db.rollup_tables import InsightDay, InsightPage
from tests.ingest_server import ORIGIN, IngestServer, start_another_node, start_ingest_server
from tests.insights.visits import DESKTOP_UA, Page, page_events
from tests.rrweb_events import now_ms

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]
VISITORS = 12


async def post_visit(node: IngestServer, sid: str, vid: str, path: str, start: int) -> None:
    events = page_events(Page(path, height=3000), start)
    hello = {
        "t": "hello", "v": 1, "site": node.site_key, "sid": sid, "vid": vid, "page": 0,
        "url": f"{ORIGIN}{path}", "referrer": "", "title": path, "viewport": [1280, 1000],
        "screen": [1920, 1080], "lang": "en", "tz": "UTC", "clock": start,
    }  # fmt: skip
    body = {"hello": hello, "batches": [{"seq": 0, "page": 0, "events": events}]}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{node.http_url}/ingest/batch",
            data=json.dumps(body),
            headers={"Origin": ORIGIN, "Content-Type": "text/plain", "User-Agent": DESKTOP_UA},
        ) as response,
    ):
        assert response.status == 200, await response.text()


async def test_one_visitors_sessions_counted_on_two_nodes_at_once(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], database_url: str
) -> None:
    first = await start_ingest_server(tmp_path / "a", aiohttp_server, database_url=database_url)
    second = await start_another_node(first, tmp_path / "b", aiohttp_server)
    start = now_ms() - 60_000
    visits = []
    for _ in range(VISITORS):
        vid = str(uuid.uuid4())
        visits.append(post_visit(first, str(uuid.uuid4()), vid, "/", start))
        visits.append(post_visit(second, str(uuid.uuid4()), vid, "/", start))
    await asyncio.gather(*visits)
    async with first.app[keys.DB]() as db:
        for _ in range(400):
            counted = await db.scalar(select(func.count()).where(PageView.counted.is_(True)))
            if counted == 2 * VISITORS:
                break
            await asyncio.sleep(0.05)
            await db.rollback()
        assert counted == 2 * VISITORS
        days = (
            await db.execute(select(func.sum(InsightDay.sessions), func.sum(InsightDay.visitors)))
        ).one()
        pages = (
            await db.execute(select(func.sum(InsightPage.views), func.sum(InsightPage.visitors)))
        ).one()
    assert tuple(days) == (2 * VISITORS, VISITORS)
    assert tuple(pages) == (2 * VISITORS, VISITORS)
