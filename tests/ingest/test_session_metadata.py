"""Metadata and behaviour counts of a session recorded over the real ingest
path: country and IP (through a trusted proxy's X-Forwarded-For), UTM,
referrer domain, page paths, exit URL, and a rage click split over two cuts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from replay_server import keys
from replay_server.db.models import PageView, RecordedSession, Site
from tests.ingest_server import ORIGIN, IngestServer, start_ingest_server
from tests.rrweb_events import mouse_move, now_ms, page_events

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
CHROME_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"
)


def click(ts: int, x: int = 50, y: int = 60) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": 4, "x": x, "y": y}}


def hello(server: IngestServer, sid: str, page: int, url: str) -> dict[str, Any]:
    return {
        "t": "hello",
        "v": 1,
        "site": server.site_key,
        "sid": sid,
        "vid": str(uuid.uuid4()),
        "page": page,
        "url": url,
        "referrer": "https://www.google.com/search?q=shoes",
        "title": f"Page {page}",
        "viewport": [390, 844],
        "screen": [390, 844],
        "lang": "de-DE",
        "tz": "Europe/Berlin",
        "clock": now_ms(),
    }


async def post(
    server: IngestServer, body: dict[str, Any], forwarded_for: str = "81.2.69.142"
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.http_url}/ingest/batch",
            data=json.dumps(body),
            headers={
                "Origin": ORIGIN,
                "Content-Type": "text/plain",
                "User-Agent": CHROME_IOS,
                "X-Forwarded-For": f"{forwarded_for}, 10.0.0.7",
            },
        ) as response,
    ):
        assert response.status == 200, await response.text()


async def session_row(server: IngestServer, sid: str) -> RecordedSession:
    async with server.app[keys.DB]() as db:
        row = await db.get(RecordedSession, sid)
        assert row is not None
        return row


async def wait_for_clicks(server: IngestServer, sid: str, clicks: int) -> RecordedSession:
    for _ in range(200):
        row = await session_row(server, sid)
        if row.click_count >= clicks:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"clicks never reached {clicks}")


async def start(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
    ip_mode: str | None = None,
) -> IngestServer:
    server = await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        trusted_proxies="127.0.0.1, 10.0.0.0/8",
    )
    if ip_mode is not None:
        async with server.app[keys.DB]() as db, db.begin():
            await db.execute(
                update(Site).where(Site.id == server.site_id).values(settings={"ip_mode": ip_mode})
            )
    return server


async def test_metadata_and_a_rage_click_across_two_cuts(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], database_url: str
) -> None:
    server = await start(tmp_path, aiohttp_server, database_url)
    sid = str(uuid.uuid4())
    entry = f"{ORIGIN}/landing?utm_source=newsletter&utm_campaign=black-friday"
    t = now_ms() - 20_000
    first = {"seq": 0, "page": 0, "events": [*page_events(t), click(t + 1000), click(t + 1200)]}
    await post(server, {"hello": hello(server, sid, 0, entry), "batches": [first]})
    await wait_for_clicks(server, sid, 2)  # the first cut is stored: two clicks, no rage yet
    assert (await session_row(server, sid)).rage_click_count == 0
    second = {"seq": 1, "page": 0, "events": [click(t + 1400), mouse_move(t + 5000)]}
    await post(server, {"hello": hello(server, sid, 0, entry), "batches": [second]})
    row = await wait_for_clicks(server, sid, 3)
    assert row.rage_click_count == 1
    assert row.dead_click_count == 3  # nothing on the page ever reacted to them
    assert (row.country, row.ip) == ("GB", "81.2.69.0")  # truncated to /24 by default
    assert (row.browser, row.browser_version, row.os, row.device) == (
        "Chrome Mobile iOS",
        "120",
        "iOS",
        "mobile",
    )
    assert (row.utm_source, row.utm_campaign, row.utm_medium) == (
        "newsletter",
        "black-friday",
        "",
    )
    assert row.referrer_domain == "google.com"
    assert row.active_ms > 0
    third = {"seq": 2, "page": 1, "events": page_events(t + 6000)}
    cart = f"{ORIGIN}/shop/cart?x=1"
    await post(server, {"hello": hello(server, sid, 1, cart), "batches": [third]})
    for _ in range(100):
        row = await session_row(server, sid)
        if row.page_count == 2:
            break
        await asyncio.sleep(0.05)
    assert row.exit_url == cart and row.entry_url == entry
    async with server.app[keys.DB]() as db:
        paths = (await db.scalars(select(PageView.path).order_by(PageView.page))).all()
    assert list(paths) == ["/landing", "/shop/cart"]


@pytest.mark.parametrize(("ip_mode", "stored"), [("none", ""), ("full", "81.2.69.142")])
async def test_ip_mode_of_the_site(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
    ip_mode: str,
    stored: str,
) -> None:
    server = await start(tmp_path, aiohttp_server, database_url, ip_mode)
    sid = str(uuid.uuid4())
    body = {"seq": 0, "page": 0, "events": page_events(now_ms() - 5000)}
    await post(server, {"hello": hello(server, sid, 0, f"{ORIGIN}/"), "batches": [body]})
    row = await session_row(server, sid)
    assert (row.country, row.ip) == ("GB", stored)


async def test_untrusted_forwarded_for_is_ignored(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], database_url: str
) -> None:
    server = await start_ingest_server(tmp_path / "data", aiohttp_server, database_url=database_url)
    sid = str(uuid.uuid4())
    body = {"seq": 0, "page": 0, "events": page_events(now_ms() - 5000)}
    await post(server, {"hello": hello(server, sid, 0, f"{ORIGIN}/"), "batches": [body]})
    row = await session_row(server, sid)
    assert (row.country, row.ip) == ("", "127.0.0.0")  # the socket's loopback peer, truncated
