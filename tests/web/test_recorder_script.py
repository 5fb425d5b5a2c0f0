"""`GET /recorder.js` serves the built recorder (replay_server/static)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient as Client


async def test_the_recorder_script_is_served(client: Client) -> None:
    response = await client.get("/recorder.js")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "ReplayRecorder" in await response.text()
