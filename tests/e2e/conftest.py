"""End-to-end fixtures: the real `replay-server serve` process, a client site on
another origin, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from tests.procs import CHROMIUM, CHROMIUM_ARGS, ServerProcess, free_port, start_server, stop_server


@pytest.fixture
def replay_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "data")
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class Account:
    email: str
    password: str
    token: str
    site_id: int
    site_key: str


def create_account(server: ServerProcess, client_origin: str, org: str = "Acme") -> Account:
    email, password = f"staff@{org.lower()}.test", "correct horse battery staple"
    server.cli(
        "create-user",
        email,
        "--org",
        org,
        "--role",
        "owner",
        "--password-stdin",
        stdin=password + "\n",
    )
    site = json.loads(
        server.cli("create-site", f"{org} shop", "--org", org, "--origin", client_origin, "--json")
    )
    token = json.loads(server.cli("create-token", email, "--json"))["token"]
    return Account(email, password, token, int(site["id"]), site["public_key"])


@dataclass
class ClientSite:
    """A customer's website on its own origin, with the recorder snippet."""

    url: str
    pages: dict[str, str]


@contextlib.asynccontextmanager
async def serve_client_site(host: str = "127.0.0.1") -> AsyncIterator[ClientSite]:
    """Serve `pages` (path -> HTML) on a free port; `host` names the origin
    (cookies are per host name, not per port)."""
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        body = pages.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield ClientSite(f"http://{host}:{port}", pages)
    finally:
        await runner.cleanup()


@pytest.fixture
async def client_site() -> AsyncIterator[ClientSite]:
    async with serve_client_site() as site:
        yield site


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def api_get(server: ServerProcess, token: str, path: str) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.url + path, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        return response.status, await response.json()


async def wait_for(predicate, timeout: float = 15.0, interval: float = 0.25):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
