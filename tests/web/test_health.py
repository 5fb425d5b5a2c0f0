"""`/healthz` says which part is failing (503), and only that (the details go to
the log), and `/metrics` serves this app's own registry in Prometheus text
format (who may read it: test_metrics_access.py)."""

from __future__ import annotations

import shutil

import pytest
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from replay_server import keys
from tests.browser import Client


async def test_healthy(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_an_unwritable_blob_store_is_unhealthy(
    client: Client, app: web.Application, caplog: pytest.LogCaptureFixture
) -> None:
    blobs = app[keys.SETTINGS].data_dir / "blobs"
    shutil.rmtree(blobs, ignore_errors=True)
    blobs.write_bytes(b"a file where the blob directory should be")
    response = await client.get("/healthz")
    assert response.status == 503
    # Which part failed, to anyone; why (local paths), only in the log.
    assert await response.json() == {"status": "unhealthy", "problems": {"storage": "unavailable"}}
    assert str(app[keys.SETTINGS].data_dir) not in await response.text()
    assert "not writable" in caplog.text and str(blobs) in caplog.text


async def test_an_unreachable_database_is_unhealthy(client: Client, app: web.Application) -> None:
    await app[keys.DB_ENGINE].dispose()
    db_file = app[keys.SETTINGS].data_dir / "replay.db"
    assert db_file.exists()
    db_file.unlink()
    db_file.mkdir()  # SQLite cannot open a directory
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["problems"] == {"database": "unavailable"}


async def test_metrics_are_this_apps_own(client: Client, app: web.Application) -> None:
    app[keys.METRICS].masked_values.inc(7)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert "replay_ingest_masked_values_total 7.0" in await response.text()
