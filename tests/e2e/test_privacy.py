"""Privacy promises in Chromium (docs/privacy.md): typed text never reaches
storage; opted-out, Do Not Track and Global Privacy Control visitors are not
recorded and open no connection to the ingest endpoint; consent mode waits for
consent(); visitor ids are per site."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.e2e.conftest import (
    Account,
    ClientSite,
    ServerProcess,
    api_get,
    create_account,
    serve_client_site,
    wait_for,
)
from tests.e2e.test_record_and_replay import stored_bytes

pytestmark = pytest.mark.e2e

TYPED = {
    "#name": "Zebra-Quokka-4417",
    "#email": "jane.doe.secret@example.org",
    "#notes": "Notes-of-Jane-5521",
    "#password": "hunter2-Sup3rSecret",
}
DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});"
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


def form_page(server: ServerProcess, account: Account, extra: str = "") -> str:
    return f"""<!doctype html><html><head><title>Form</title></head><body>
  <h1>Checkout</h1>
  <input id="name" type="text"><input id="email" type="email">
  <input id="password" type="password"><textarea id="notes"></textarea>
  <input type="hidden" name="who" value="hidden-jane@example.org">
  <script src="{server.url}/recorder.js" data-site-key="{account.site_key}" {extra} async></script>
</body></html>"""


class IngestWatch:
    """Every request and WebSocket a page opens towards the ingest endpoint."""

    def __init__(self, server: ServerProcess, page: Page) -> None:
        self.prefix = server.url.replace("http://", "") + "/ingest/"
        self.seen: list[str] = []
        page.on("request", lambda r: self._note(r.url))
        page.on("websocket", lambda ws: self._note(ws.url))

    def _note(self, url: str) -> None:
        if self.prefix in url:
            self.seen.append(url)


async def session_count(server: ServerProcess, account: Account) -> int:
    status, body = await api_get(server, account.token, f"/api/v1/sites/{account.site_id}/sessions")
    assert status == 200, body
    return len(body["sessions"])  # type: ignore[index]


async def open_page(
    context: BrowserContext, server: ServerProcess, url: str
) -> tuple[Page, IngestWatch]:
    page = await context.new_page()
    watch = IngestWatch(server, page)
    await page.goto(url)
    await page.wait_for_function("window.ReplayRecorder !== undefined")
    return page, watch


async def test_typed_text_never_reaches_storage(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = form_page(replay_server, account)
    context = await browser.new_context()
    page, watch = await open_page(context, replay_server, client_site.url + "/")
    await page.wait_for_function("window.ReplayRecorder.sessionId() !== null")
    for selector, value in TYPED.items():
        await page.fill(selector, value)
    await page.click("h1")  # blur: rrweb records the change
    await page.wait_for_timeout(1500)
    await context.close()  # pagehide: the rest is sent and chunked on disconnect
    assert watch.seen, "the recorder never connected"

    async def stored_session() -> bool:
        return await session_count(replay_server, account) == 1

    await wait_for(stored_session)
    await asyncio.sleep(1.0)
    everything = stored_bytes(replay_server.data_dir)
    assert b"Checkout" in everything  # the page itself was recorded
    for secret in [*TYPED.values(), "hidden-jane@example.org"]:
        assert secret.encode() not in everything, f"{secret} was stored"


@pytest.mark.parametrize("signal", ["dnt", "gpc", "opted-out"])
async def test_refusing_visitors_open_no_connection(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser, signal: str
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = form_page(replay_server, account)
    context = await browser.new_context()
    if signal == "dnt":
        await context.add_init_script(DNT)
    elif signal == "gpc":
        await context.add_init_script(GPC)
    else:  # the link the opt-out page offers, opened once
        page, watch = await open_page(context, replay_server, client_site.url + "/#rs-opt-out")
        assert await page.evaluate("localStorage.getItem('_rs_optout')") == "1"
        assert await page.evaluate("location.hash") == ""
        await page.close()
    page, watch = await open_page(context, replay_server, client_site.url + "/")
    await page.fill("#name", "typed while refusing")
    await page.wait_for_timeout(2500)
    assert await page.evaluate("window.ReplayRecorder.sessionId()") is None
    await page.reload()
    await page.wait_for_timeout(1500)
    await context.close()
    assert watch.seen == []
    assert await session_count(replay_server, account) == 0


async def test_consent_mode_records_only_after_consent(
    replay_server: ServerProcess, client_site: ClientSite, browser: Browser
) -> None:
    account = create_account(replay_server, client_site.url)
    client_site.pages["/"] = form_page(replay_server, account, "data-require-consent")
    context = await browser.new_context()
    page, watch = await open_page(context, replay_server, client_site.url + "/")
    await page.wait_for_timeout(2500)
    assert watch.seen == [] and await session_count(replay_server, account) == 0
    await page.evaluate("window.ReplayRecorder.consent()")
    await page.wait_for_function("window.ReplayRecorder.sessionId() !== null")
    assert watch.seen

    async def recorded() -> bool:
        return await session_count(replay_server, account) == 1

    await wait_for(recorded)
    await context.close()


@pytest.fixture
async def second_site() -> AsyncIterator[ClientSite]:
    """Another client site on another host name (cookies are per host, not per port)."""
    async with serve_client_site("localhost") as site:
        yield site


async def test_visitor_ids_differ_between_sites(
    replay_server: ServerProcess,
    client_site: ClientSite,
    second_site: ClientSite,
    browser: Browser,
) -> None:
    first = create_account(replay_server, client_site.url, org="Acme")
    second = create_account(replay_server, second_site.url, org="Globex")
    client_site.pages["/"] = form_page(replay_server, first)
    second_site.pages["/"] = form_page(replay_server, second)
    context = await browser.new_context()  # one browser, one cookie jar
    for site in (client_site, second_site, client_site):
        page, _ = await open_page(context, replay_server, site.url + "/")
        await page.wait_for_function("window.ReplayRecorder.sessionId() !== null")
        await page.wait_for_timeout(1200)
        await page.close()
    await context.close()

    async def visitors(account: Account) -> set[str] | None:
        _, body = await api_get(
            replay_server, account.token, f"/api/v1/sites/{account.site_id}/sessions"
        )
        sessions = body["sessions"]  # type: ignore[index]
        return {s["visitor_id"] for s in sessions} if sessions else None

    first_ids = await wait_for(lambda: visitors(first))
    second_ids = await wait_for(lambda: visitors(second))
    assert len(first_ids) == 1  # returning visitor on the first site: the same id
    assert len(second_ids) == 1
    assert first_ids.isdisjoint(second_ids)
