"""The live view WebSocket (scoping, backlog then live batches, dedup, end) and
the events endpoint's report of missing or corrupt chunks."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from replay_server import keys
from replay_server.chunks.format import encode_chunk
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk
from replay_server.live import LiveMessage
from replay_server.timeutil import now_ms
from tests.browser import Client, login
from tests.conftest import AddSession, MakeTenant, Tenant
from tests.rrweb_events import mutation_add_item, page_events


async def add_chunk(
    client: Client, db: SessionFactory, sid: str, idx: int, events: list[dict[str, Any]],
    *, data: bytes | None = None, store: bool = True,
) -> None:  # fmt: skip
    blob, raw = encode_chunk(events)
    key = f"test/{sid}/{idx}.rsc"
    if store:
        await client.app[keys.BLOBS].put(key, blob if data is None else data)
    async with db() as s:
        s.add(
            Chunk(
                session_id=sid, idx=idx, page=0, blob_key=key, format_version=1,
                first_seq=idx, last_seq=idx, first_ts=events[0]["timestamp"],
                last_ts=events[-1]["timestamp"], event_count=len(events), raw_bytes=raw,
                stored_bytes=len(blob), has_full_snapshot=any(e["type"] == 2 for e in events),
                created_ms=now_ms(),
            )
        )  # fmt: skip
        await s.commit()


async def test_missing_and_corrupt_chunks_are_skipped_and_reported(
    client: Client, db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://alice.example/"])
    t = now_ms() - 60_000
    first = page_events(t, items=1)
    await add_chunk(client, db, sid, 0, first)
    await add_chunk(client, db, sid, 1, [mutation_add_item(t + 1000, 200, "lost")], store=False)
    await add_chunk(
        client, db, sid, 2, [mutation_add_item(t + 2000, 300, "bad")], data=b"RSCK\x01junk"
    )
    await add_chunk(client, db, sid, 3, [mutation_add_item(t + 3000, 400, "kept")])
    response = await client.get(f"/api/v1/sessions/{sid}/events", headers=tenant.headers)
    assert response.status == 200
    body = await response.json()
    assert len(body["events"]) == len(first) + 1
    assert body["events"][-1]["data"]["adds"][0]["node"]["childNodes"][0]["textContent"] == "kept"
    missing = body["missing"]
    assert [(m["chunk"], m["page"], m["first_ts"]) for m in missing] == [
        (1, 0, t + 1000),
        (2, 0, t + 2000),
    ]
    assert "missing" in missing[0]["reason"] and missing[1]["reason"].startswith("corrupt")
    # A time window that excludes the damaged chunks reports nothing missing.
    window = await client.get(
        f"/api/v1/sessions/{sid}/events", params={"from_ms": t + 2500}, headers=tenant.headers
    )
    assert (await window.json())["missing"] == []


async def test_live_view_is_scoped_like_every_session_endpoint(
    client: Client, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    sid = await add_session(alice.site_id, ["https://alice.example/"], ended_ms=None)
    for who, path in ((bob, sid), (bob, "no-such-session")):
        with pytest.raises(aiohttp.WSServerHandshakeError) as e:
            await client.ws_connect(f"/api/v1/sessions/{path}/live", headers=who.headers)
        assert e.value.status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
        await client.ws_connect(f"/api/v1/sessions/{sid}/live")
    assert anonymous.value.status == 401
    # With the login cookie, only the dashboard's own origin may connect
    # (cross-site WebSocket hijacking).
    await login(client, alice.email, alice.password)
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await client.ws_connect(
            f"/api/v1/sessions/{sid}/live", headers={"Origin": "https://evil.example"}
        )
    assert foreign.value.status == 403
    own_origin = f"http://{client.host}:{client.port}"
    ws = await client.ws_connect(f"/api/v1/sessions/{sid}/live", headers={"Origin": own_origin})
    assert (await ws.receive_json(timeout=5))["t"] == "caught_up"
    await ws.close()


async def test_live_view_sends_backlog_then_new_batches_once_then_end(
    client: Client, db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    now = now_ms()
    sid = await add_session(
        tenant.site_id, ["https://alice.example/"], ended_ms=None, last_seen_ms=now
    )
    stored = page_events(now - 5000, items=2)
    await add_chunk(client, db, sid, 0, stored)
    ws = await client.ws_connect(f"/api/v1/sessions/{sid}/live", headers=tenant.headers)
    backlog: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=5)
        if frame["t"] == "caught_up":
            break
        assert frame["t"] == "events"
        backlog.extend(frame["events"])
    assert backlog == stored and frame["last_seq"] == 0 and frame["missing"] == []
    broker = client.app[keys.LIVE]
    old = LiveMessage(sid, 0, 0, [mutation_add_item(now - 4000, 500, "again")])
    new = LiveMessage(sid, 1, 0, [mutation_add_item(now, 600, "fresh")])
    await broker.publish(old)  # already in the backlog: not sent twice
    await broker.publish(new)
    frame = await ws.receive_json(timeout=5)
    assert frame == {"t": "events", "seq": 1, "page": 0, "events": new.events}
    await broker.publish(LiveMessage(sid, 2, 0, [], ended=True))
    assert (await ws.receive_json(timeout=5)) == {"t": "end"}
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1000
    await ws.close()
    await asyncio.sleep(0)
