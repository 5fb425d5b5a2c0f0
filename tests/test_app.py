"""create_app (app.py): pure until started (no directory, file or connection
is made), the resources open at start-up and close at shutdown, and the live
broker is local unless a Redis URL is set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestServer

from replay_server import keys
from replay_server.app import create_app, ingest_rate_limits
from replay_server.live import LocalBroker
from replay_server.live.redis_broker import RedisBroker
from replay_server.settings import Settings


def test_building_the_app_touches_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    app = create_app(settings)
    assert app[keys.SETTINGS] is settings
    assert keys.DB not in app and keys.INGESTOR not in app
    assert not (tmp_path / "data").exists()
    assert app._client_max_size == settings.max_frame_bytes


def test_rate_limits_follow_the_settings() -> None:
    limits = ingest_rate_limits(Settings(rate_max_wait_seconds=0.25))
    assert limits.max_wait == 0.25


async def test_resources_open_at_start_and_close_at_shutdown(
    migrated_settings: Settings, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    server = await aiohttp_server(create_app(migrated_settings))
    app = server.app
    for key in (keys.COUNTRIES, keys.SECRET, keys.DB, keys.BLOBS, keys.INGESTOR, keys.READER):
        assert key in app, key
    assert isinstance(app[keys.LIVE], LocalBroker)
    assert app[keys.READER] is app[keys.INGESTOR].reader
    engine = app[keys.DB_ENGINE]
    await server.close()
    assert engine.pool.checkedout() == 0


async def test_a_redis_url_gives_the_redis_broker(
    migrated_settings: Settings,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    redis_url: str,
) -> None:
    server = await aiohttp_server(create_app(migrated_settings.replace(redis_url=redis_url)))
    try:
        assert isinstance(server.app[keys.LIVE], RedisBroker)
    finally:
        await server.close()
