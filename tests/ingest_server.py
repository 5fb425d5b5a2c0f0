"""A live server (real TCP port) with one org and one site, and a protocol
client, for tests of the ingest path (the `ingest` and `recorder` fixtures are
in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from websockets.asyncio.client import ClientConnection, connect

from replay_server import keys
from replay_server.app import create_app
from replay_server.db.migrate import upgrade
from replay_server.db.models import Organisation, Site
from replay_server.settings import Settings

ORIGIN = "http://client.test"


@dataclass
class IngestServer:
    server: TestServer
    app: web.Application
    site_key: str
    site_id: int
    settings: Settings

    @property
    def ws_url(self) -> str:
        return f"ws://{self.server.host}:{self.server.port}/ingest/ws"

    @property
    def http_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    async def events(self, sid: str) -> list[dict[str, Any]]:
        read = await self.app[keys.READER].read_session(session_id=sid, site_id=self.site_id)
        return read.events


@dataclass
class Recorder:
    """A protocol client built on `websockets` (independent of our own code)."""

    url: str
    site_key: str
    origin: str = ORIGIN
    sid: str = field(default_factory=lambda: str(uuid.uuid4()))
    vid: str = field(default_factory=lambda: str(uuid.uuid4()))
    page: int = 0
    ws: ClientConnection | None = None

    def hello(self, **changes: Any) -> dict[str, Any]:
        msg = {
            "t": "hello",
            "v": 1,
            "site": self.site_key,
            "sid": self.sid,
            "vid": self.vid,
            "page": self.page,
            "url": f"{self.origin}/page{self.page}",
            "referrer": "",
            "title": f"Page {self.page}",
            "viewport": [1280, 720],
            "screen": [1920, 1080],
            "lang": "en",
            "tz": "UTC",
            "clock": int(time.time() * 1000),
        }
        msg.update(changes)
        return msg

    async def connect(self, **hello_changes: Any) -> dict[str, Any]:
        self.ws = await connect(self.url, origin=self.origin)  # type: ignore[arg-type]
        await self.send(self.hello(**hello_changes))
        return await self.recv()

    async def send(self, msg: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(msgpack.packb(msg))

    async def recv(self) -> dict[str, Any]:
        assert self.ws is not None
        data = await asyncio.wait_for(self.ws.recv(), 10)
        assert isinstance(data, bytes)
        value: dict[str, Any] = msgpack.unpackb(data)
        return value

    async def batch(self, seq: int, events: list[dict[str, Any]], page: int | None = None) -> None:
        await self.send(
            {
                "t": "batch",
                "seq": seq,
                "page": self.page if page is None else page,
                "events": events,
            }
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


async def start_ingest_server(
    data_dir: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], **overrides: Any
) -> IngestServer:
    settings = Settings(data_dir=data_dir, **overrides)
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    app = create_app(settings)
    server = await aiohttp_server(app)
    key = "pk_" + secrets.token_urlsafe(24)
    async with app[keys.DB]() as db, db.begin():
        org = Organisation(name=f"org-{key}", created_ms=0)
        db.add(org)
        await db.flush()
        site = Site(
            org_id=org.id,
            name="Client",
            public_key=key,
            allowed_origins=[ORIGIN],
            settings={},
            created_ms=0,
        )
        db.add(site)
        await db.flush()
        site_id = site.id
    return IngestServer(server, app, key, site_id, settings)


async def start_another_node(
    first: IngestServer,
    data_dir: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    **overrides: Any,
) -> IngestServer:
    """A second server node on the same database and blob store as `first`
    (its own data dir, so its own spool), serving the same site."""
    shared = {
        "database_url": first.settings.effective_database_url,
        "storage_url": first.settings.effective_storage_url,
    }
    settings = first.settings.replace(data_dir=data_dir, **{**shared, **overrides})
    app = create_app(settings)
    server = await aiohttp_server(app)
    return IngestServer(server, app, first.site_key, first.site_id, settings)


# For tests of the ingest path that must hold whether frames are prepared on the
# event loop (REPLAY_INGEST_WORKERS=0) or in a frame worker process.
BOTH_FRAME_PATHS = pytest.mark.parametrize(
    "ingest_workers", [0, 1], indirect=True, ids=["in-process", "frame-worker"]
)
