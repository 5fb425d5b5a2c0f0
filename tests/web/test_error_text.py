"""A failure of the server (5xx) answers its code and a generic message; the
details (local paths, OS and driver messages) go to the log only. A refusal of
the client's own request (4xx) keeps its message (issue 14 item 8)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from replay_server import keys
from replay_server.errors import (
    CorruptChunk,
    InvalidMessage,
    ReplayError,
    StorageError,
    Unavailable,
)
from replay_server.settings import Settings
from replay_server.web.middleware import error_middleware
from tests.browser import Client

SECRET_PATH = "/srv/replay-data/blobs/s/1/abc/c0.rsc"


async def answer(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path, error: ReplayError
) -> tuple[int, dict[str, dict[str, str]]]:
    async def handler(request: web.Request) -> web.Response:
        raise error

    app = web.Application(middlewares=[error_middleware])
    app[keys.SETTINGS] = Settings(data_dir=tmp_path)
    app.router.add_post("/ingest/batch", handler)
    client = await aiohttp_client(app)
    response = await client.post("/ingest/batch", data=b"x")
    return response.status, await response.json()


@pytest.mark.parametrize(
    "error",
    [
        StorageError(f"cannot write blob {SECRET_PATH}: [Errno 5] Input/output error"),
        CorruptChunk(f"chunk {SECRET_PATH} has an unknown format version"),
        Unavailable(f"this node cannot store data now (Read-only file system: {SECRET_PATH!r})"),
    ],
)
async def test_server_failures_keep_their_details_in_the_log(
    aiohttp_client: Callable[..., Awaitable[Client]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    error: ReplayError,
) -> None:
    status, body = await answer(aiohttp_client, tmp_path, error)
    assert status == error.http_status >= 500
    assert body["error"]["code"] == error.code
    assert "/srv/" not in body["error"]["message"]
    assert SECRET_PATH in caplog.text


async def test_refusals_keep_their_message(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    status, body = await answer(aiohttp_client, tmp_path, InvalidMessage("seq must be an int"))
    assert (status, body["error"]["message"]) == (400, "seq must be an int")
