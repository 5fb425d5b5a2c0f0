"""Site look-up on the ingest path: a connection storm on a key that is not
cached costs one query, and a key forgotten meanwhile is read afresh."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import msgpack
import pytest
from sqlalchemy import event, update

from replay_server import keys
from replay_server.db.models import Site
from replay_server.errors import UnknownSite
from replay_server.ingest.sites import SiteDirectory
from tests.browser import Client
from tests.conftest import MakeTenant, Tenant
from tests.rrweb_events import now_ms, page_events


def count_site_queries(client: Client) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM sites" in statement:
            seen.append(statement)

    event.listen(client.app[keys.DB_ENGINE].sync_engine, "before_cursor_execute", before)
    return seen


async def test_concurrent_look_ups_of_one_key_share_a_query(client: Client, tenant: Tenant) -> None:
    sites = SiteDirectory(client.app[keys.DB])
    queries = count_site_queries(client)
    found = await asyncio.gather(*(sites.by_key(tenant.site_key) for _ in range(200)))
    assert {s.id for s in found} == {tenant.site_id}
    assert len(queries) == 1
    await sites.by_key(tenant.site_key)  # cached now
    assert len(queries) == 1
    results = await asyncio.gather(
        *(sites.by_key("pk_" + "x" * 20) for _ in range(50)), return_exceptions=True
    )
    assert all(isinstance(r, UnknownSite) for r in results)
    assert len(queries) == 2


async def test_a_key_forgotten_while_loading_is_read_again(client: Client, tenant: Tenant) -> None:
    sites = SiteDirectory(client.app[keys.DB])
    loading = asyncio.create_task(sites.by_key(tenant.site_key))
    await asyncio.sleep(0)
    async with client.app[keys.DB]() as db, db.begin():
        await db.execute(
            update(Site).where(Site.id == tenant.site_id).values(settings={"record": False})
        )
    sites.forget(tenant.site_key)  # what the loading query read may predate the change
    await loading
    site = await sites.by_key(tenant.site_key)
    assert site.settings == {"record": False}


async def test_a_cancelled_caller_does_not_cancel_the_others(
    client: Client, tenant: Tenant
) -> None:
    sites = SiteDirectory(client.app[keys.DB])
    first = asyncio.create_task(sites.by_key(tenant.site_key))
    second = asyncio.create_task(sites.by_key(tenant.site_key))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).id == tenant.site_id
    with pytest.raises(asyncio.CancelledError):
        await first


IPV6_ORIGIN = "http://[::1]:8080"


def hello_for(site_key: str, origin: str) -> dict[str, Any]:
    return {
        "t": "hello", "v": 1, "site": site_key, "sid": str(uuid.uuid4()),
        "vid": str(uuid.uuid4()), "page": 0, "url": f"{origin}/", "referrer": "",
        "title": "IPv6", "viewport": [800, 600], "screen": [800, 600], "lang": "en",
        "tz": "UTC", "clock": now_ms(),
    }  # fmt: skip


async def test_an_ipv6_origin_keeps_its_brackets_in_the_hello_check(
    client: Client, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("six", origin=IPV6_ORIGIN)
    site = await SiteDirectory(client.app[keys.DB]).by_key(tenant.site_key)
    assert site.allowed_origins == {IPV6_ORIGIN}
    site.check_origin(IPV6_ORIGIN)
    async with client.ws_connect("/ingest/ws", origin=IPV6_ORIGIN) as ws:
        await ws.send_bytes(msgpack.packb(hello_for(tenant.site_key, IPV6_ORIGIN)))
        welcome = msgpack.unpackb(await ws.receive_bytes(timeout=10))
    assert welcome["t"] == "welcome", welcome


async def test_cors_of_the_http_fallback_allows_an_ipv6_origin(
    client: Client, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("six", origin=IPV6_ORIGIN)
    body = {
        "hello": {k: v for k, v in hello_for(tenant.site_key, IPV6_ORIGIN).items() if k != "t"},
        "batches": [{"seq": 0, "page": 0, "events": page_events(now_ms(), href=IPV6_ORIGIN)}],
    }
    preflight = await client.options("/ingest/batch", headers={"Origin": IPV6_ORIGIN})
    assert preflight.headers["Access-Control-Allow-Origin"] == IPV6_ORIGIN
    r = await client.post(
        "/ingest/batch",
        data=json.dumps(body),
        headers={"Origin": IPV6_ORIGIN, "Content-Type": "text/plain"},
    )
    assert r.status == 200, await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == IPV6_ORIGIN
