"""`/healthz` says which part is failing (503) and `/metrics` serves this app's
own registry in Prometheus text format; both public."""

from __future__ import annotations

import shutil

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from replay_server import keys
from tests.browser import Client


async def test_healthy(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_an_unwritable_blob_store_is_unhealthy(client: Client, app: web.Application) -> None:
    blobs = app[keys.SETTINGS].data_dir / "blobs"
    shutil.rmtree(blobs, ignore_errors=True)
    blobs.write_bytes(b"a file where the blob directory should be")
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unhealthy"
    assert list(body["problems"]) == ["storage"]
    assert "not writable" in body["problems"]["storage"]


async def test_an_unreachable_database_is_unhealthy(client: Client, app: web.Application) -> None:
    await app[keys.DB_ENGINE].dispose()
    db_file = app[keys.SETTINGS].data_dir / "replay.db"
    assert db_file.exists()
    db_file.unlink()
    db_file.mkdir()  # SQLite cannot open a directory
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["problems"] == {"database": "OperationalError"}


async def test_metrics_are_this_apps_own(client: Client, app: web.Application) -> None:
    app[keys.METRICS].masked_values.inc(7)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert "replay_ingest_masked_values_total 7.0" in await response.text()
