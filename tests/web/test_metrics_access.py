"""`/metrics` is not public by default on a server others can reach (issue 14
item 8): a bearer token (REPLAY_METRICS_TOKEN), or loopback-only, or an
explicit REPLAY_METRICS_PUBLIC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from replay_server.app import create_app
from replay_server.settings import Settings
from replay_server.web.health import is_loopback
from tests.browser import Client

MakeClient = Callable[..., Awaitable[Client]]


async def metrics_status(
    aiohttp_client: MakeClient, settings: Settings, headers: dict[str, str] | None = None
) -> int:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/metrics", headers=headers)
    if response.status == 200:
        assert "replay_ingest_connections" in await response.text()
    return response.status


async def test_a_non_loopback_bind_hides_metrics(
    aiohttp_client: MakeClient, migrated_settings: Settings
) -> None:
    for host in ("0.0.0.0", "::", "203.0.113.5", "replay.example.com"):
        assert await metrics_status(aiohttp_client, migrated_settings.replace(host=host)) == 404
    public = migrated_settings.replace(host="0.0.0.0", metrics_public=True)
    assert await metrics_status(aiohttp_client, public) == 200


async def test_a_loopback_bind_serves_metrics_but_not_through_a_proxy(
    aiohttp_client: MakeClient, migrated_settings: Settings
) -> None:
    local = migrated_settings.replace(host="127.0.0.1")
    assert await metrics_status(aiohttp_client, local) == 200
    proxied = {"X-Forwarded-For": "198.51.100.9"}
    assert await metrics_status(aiohttp_client, local, proxied) == 404


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
async def test_a_token_guards_metrics_on_any_bind(
    aiohttp_client: MakeClient, migrated_settings: Settings, host: str
) -> None:
    settings = migrated_settings.replace(host=host, metrics_token="s3cret-scrape-token")
    client = await aiohttp_client(create_app(settings))
    refused = await client.get("/metrics")
    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert right.status == 200 and "replay_ingest_connections" in await right.text()


def test_is_loopback() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "", "10.0.0.1", "example.com"))
