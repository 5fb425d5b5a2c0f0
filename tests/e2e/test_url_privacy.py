"""URLs in Chromium (docs/privacy.md, "URLs"): the real recorder on a page whose
URL and referrer carry secrets and an e-mail address redacts them before they
leave the page (hello and rrweb Meta event, as sent on the WebSocket), and
nothing the server wrote or serves holds them; the site's allow/deny lists
reach the recorder and apply on both sides."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
from typing import Any

import msgpack
import pytest
from playwright.async_api import Browser, WebSocket

from tests.e2e.conftest import ClientSite, ServerProcess, api_get, create_account, wait_for
from tests.e2e.test_record_and_replay import stored_bytes

pytestmark = pytest.mark.e2e

QUERY = (
    "?email=jane%40example.org&token=tok-8812abc&promo_code=SPRING55"
    "&partner=acme7partner&page=2#access_token=xyz-acc-991"
)
KEPT = "/account?email=REDACTED&token=REDACTED&promo_code=SPRING55&partner=REDACTED&page=2"
REFERRER = "https://mail.example/inbox/jane.doe@example.org?sid=s3cr3t-77"
SECRETS = ["jane", "tok-8812abc", "acme7partner", "xyz-acc-991", "s3cr3t-77", "access_token"]


def sent_messages(frames: list[bytes]) -> list[dict[str, Any]]:
    """The recorder's frames decoded, gzip'd batches opened."""
    messages = []
    for frame in frames:
        message: dict[str, Any] = msgpack.unpackb(frame)
        if isinstance(message.get("gz"), bytes):
            message["events"] = msgpack.unpackb(gzip.decompress(message.pop("gz")))
        messages.append(message)
    return messages


async def test_recorded_urls_carry_no_secrets(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    with sqlite3.connect(replay_server.data_dir / "replay.db") as db:
        lists = '{"url_params_allow": ["promo_code"], "url_params_deny": ["partner"]}'
        db.execute("UPDATE sites SET settings = ? WHERE id = ?", (lists, account.site_id))
    client_site.pages["/account"] = f"""<!doctype html><html><head><title>Account</title>
  </head><body><h1>Your account</h1>
  <script src="{replay_server.url}/recorder.js" data-site-key="{account.site_key}" async></script>
</body></html>"""
    context = await browser.new_context()
    page = await context.new_page()
    frames: list[bytes] = []

    def watch(ws: WebSocket) -> None:
        ws.on(
            "framesent",
            lambda payload: frames.append(payload) if isinstance(payload, bytes) else None,
        )

    page.on("websocket", watch)
    await page.goto(client_site.url + "/account" + QUERY, referer=REFERRER)
    await page.wait_for_function("window.ReplayRecorder.sessionId() !== null")
    await page.wait_for_timeout(1500)
    # the page itself still sees its URL: only what is recorded is redacted
    assert "tok-8812abc" in await page.evaluate("location.href")
    await page.reload()  # the second page's hello knows the lists (cached config)
    await page.wait_for_timeout(1500)
    await context.close()

    # What the recorder sent: hello url/referrer and Meta href, redacted.
    messages = sent_messages(frames)
    hellos = [m for m in messages if m.get("t") == "hello"]
    metas = [e for m in messages for e in m.get("events", []) if e.get("type") == 4]
    assert len(hellos) >= 2 and len(metas) >= 2, messages
    # The session's first hello is sent before the site's lists are known: the
    # default rules only (the server applies the lists: below).
    default_rules = (
        "/account?email=REDACTED&token=REDACTED&promo_code=REDACTED&partner=acme7partner&page=2"
    )
    assert hellos[0]["url"] == client_site.url + default_rules
    assert all(h["url"] == client_site.url + KEPT for h in hellos[1:])
    assert all(h["referrer"] == "https://mail.example/inbox/REDACTED?sid=REDACTED" for h in hellos)
    assert all(e["data"]["href"] == client_site.url + KEPT for e in metas)
    for secret in SECRETS:
        assert secret not in repr([*messages[1:], {**hellos[0], "url": ""}]), secret

    async def stored_session() -> Any:
        status, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        assert status == 200, body
        return body["sessions"]  # type: ignore[index]

    sessions = await wait_for(stored_session)
    await asyncio.sleep(1.0)
    sid = sessions[0]["id"]
    responses = [sessions]
    for path in (
        f"/api/v1/sessions/{sid}",
        f"/api/v1/sessions/{sid}/events?page=0",
        f"/api/v1/sessions/{sid}/events?page=1",
        f"/api/v1/sites/{account.site_id}/sessions?url=promo_code%3DSPRING55",
    ):
        status, body = await api_get(replay_server, account.token, path)
        assert status == 200, body
        responses.append(body)
    assert client_site.url + KEPT in repr(responses[1:3])
    assert responses[-1]["sessions"], "search by the kept parameter finds the session"  # type: ignore[index]
    everything = stored_bytes(replay_server.data_dir)
    everything += b"".join(p.read_bytes() for p in replay_server.data_dir.rglob("*") if p.is_file())
    everything += replay_server.log_path.read_bytes()
    assert KEPT.encode() in everything
    for secret in SECRETS:
        assert secret.encode() not in everything, f"{secret} was stored"
        assert secret not in repr(responses), f"{secret} was served"
        status, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions?url={secret}"
        )
        assert body["sessions"] == [], secret  # type: ignore[index]
