"""Issue 17, item 4 in Chromium: the player downloads the stored chunk blobs
(not the JSON events API) and decodes them itself (zstd in WebAssembly, the
site's dictionary, msgpack); it draws what the events API path draws; a second
open is served by the browser's cache; `?t=` loads the chunks around the target
first and the earlier ones after; a corrupt chunk is reported missing while the
rest plays; without the decoder the player falls back to the events API."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from tests.chunks.site_pages import page_recording, site_sessions
from tests.e2e.conftest import Account, api_get, create_account, wait_for
from tests.e2e.test_player import clock, login, replay_frame
from tests.ingest_server import ORIGIN, Recorder
from tests.procs import ServerProcess, start_server, stop_server, stored_chunk_path

pytestmark = pytest.mark.e2e

BATCH_EVENTS = 25
TEMPLATES = ("product", "category")


@pytest.fixture
def small_chunks_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Chunks of ~16 KB of msgpack: a two-minute page view is cut into several."""
    server = start_server(
        tmp_path / "data", REPLAY_CHUNK_MAX_BYTES="16384", REPLAY_CHUNK_MAX_AGE_SECONDS="0.2"
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def training_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Trains a site dictionary as soon as it has enough chunks (the trainer runs
    at the maintenance cadence)."""
    server = start_server(
        tmp_path / "data",
        REPLAY_CHUNK_MAX_AGE_SECONDS="0.2",
        REPLAY_RETENTION_SWEEP_SECONDS="0.5",
    )
    try:
        yield server
    finally:
        stop_server(server)


async def record(
    server: ServerProcess, site_key: str, pages: list[list[dict[str, Any]]], pause: float = 0.0
) -> str:
    """One session of `pages` (page views in order) through protocol v1, every batch
    acked; `pause` seconds between batches (longer than the chunk age: a chunk each)."""
    ws_url = server.url.replace("http://", "ws://") + "/ingest/ws"
    first = Recorder(ws_url, site_key)
    sid, vid = first.sid, first.vid
    seq = 0  # a session's batch numbers go on across its page views
    for page, events in enumerate(pages):
        recorder = Recorder(ws_url, site_key, sid=sid, vid=vid, page=page)
        welcome = await recorder.connect()
        assert welcome["t"] == "welcome", welcome
        for i in range(0, len(events), BATCH_EVENTS):
            await recorder.batch(seq, events[i : i + BATCH_EVENTS])
            seq += 1
            await asyncio.sleep(pause)
        while (reply := await recorder.recv())["t"] != "ack" or reply["seq"] < seq - 1:
            assert reply["t"] == "ack", reply
        await recorder.close()
    return sid


async def stored_detail(server: ServerProcess, account: Account, sid: str, events: int) -> Any:
    """The session once all `events` are in stored chunks."""

    async def probe() -> Any:
        _, detail = await api_get(server, account.token, f"/api/v1/sessions/{sid}")
        items = detail.get("chunks", {}).get("items", []) if isinstance(detail, dict) else []
        return detail if sum(i["events"] for i in items) == events else None

    return await wait_for(probe, timeout=60)


@dataclass
class NetLog:
    """What the page downloaded, from Chromium's own network log (CDP)."""

    urls: list[str] = field(default_factory=list)
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    encoded: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, str] = field(default_factory=dict)

    def matching(self, part: str) -> list[str]:
        return [u for u in self.urls if part in u]

    def bytes_of(self, part: str) -> int:
        return sum(n for u, n in self.encoded.items() if part in u)


async def net_log(page: Page) -> NetLog:
    log = NetLog()
    cdp = await page.context.new_cdp_session(page)

    def sent(e: dict[str, Any]) -> None:
        log.by_id[e["requestId"]] = e["request"]["url"]
        log.urls.append(e["request"]["url"])

    def received(e: dict[str, Any]) -> None:
        log.responses[e["response"]["url"]] = e["response"]

    def finished(e: dict[str, Any]) -> None:
        url = log.by_id.get(e["requestId"], "")
        log.encoded[url] = log.encoded.get(url, 0) + int(e["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    await cdp.send("Network.enable")
    return log


async def open_replay(page: Page, url: str) -> str:
    """Open the player, wait until everything is loaded; the replayed page's body."""
    await page.goto(url)
    await page.wait_for_selector("html[data-loaded=true]", state="attached", timeout=30_000)
    frame = await replay_frame(page)
    await page.wait_for_timeout(300)  # the last seek's frame
    body: str = await frame.evaluate(WITHOUT_HOVER)
    return body


# rrweb's replayer marks the elements under its mouse with a ":hover" class and
# takes it away again, which leaves `class=""` behind; where the mouse was at
# the end depends on whether a moment was reached by playing or by a seek, not
# on where the events came from. The comparison leaves both out.
WITHOUT_HOVER = """() => {
  if (!document.body) return '';
  const copy = document.body.cloneNode(true);
  for (const el of [copy, ...copy.querySelectorAll('*')]) {
    if (!el.classList) continue;
    el.classList.remove(':hover');
    if (el.getAttribute('class') === '') el.removeAttribute('class');
  }
  return copy.innerHTML;
}"""


async def source(page: Page) -> str:
    value: str = await page.evaluate("document.documentElement.dataset.source")
    return value


async def test_chunks_decoded_in_the_browser_cached_targeted_and_corrupt(
    small_chunks_server: ServerProcess, browser: Browser
) -> None:
    server = small_chunks_server
    account = create_account(server, ORIGIN)
    rng = random.Random(17)
    start = int(time.time() * 1000) - 3_600_000
    first = page_recording(rng, TEMPLATES[0], start, 100)
    second = page_recording(rng, TEMPLATES[1], first[-1]["timestamp"] + 2000, 100)
    sid = await record(server, account.site_key, [first, second], pause=0.4)
    detail = await stored_detail(server, account, sid, len(first) + len(second))
    items = detail["chunks"]["items"]
    second_page = [i for i in items if i["page"] == 1]
    assert len(items) >= 6 and len(second_page) >= 3, [i["raw_bytes"] for i in items]
    session_start = min(i["first_ts"] for i in items)
    end_t = (max(i["last_ts"] for i in items) - session_start) / 1000 + 1

    player = await login(browser, server, account)
    errors: list[str] = []
    player.on("pageerror", lambda e: errors.append(str(e)))
    log = await net_log(player)
    at_end = await open_replay(player, f"{server.url}/sessions/{sid}?t={end_t:.0f}")
    assert await source(player) == "chunks"
    fetched = {int(u.rsplit("/", 1)[1]) for u in log.matching(f"/sessions/{sid}/chunks/")}
    assert fetched == {i["idx"] for i in items}
    # The events API only for the tail after the last stored chunk.
    tail = log.matching(f"/sessions/{sid}/events")
    assert len(tail) == 1 and "from_ms=" in tail[0], tail
    assert log.responses[log.matching("zstd.wasm")[0]]["status"] == 200
    # The second page at its end: its heading's text from the recording is drawn.
    assert "site-footer" in at_end and "cart-count" in at_end

    # ?t= in the second page: its first chunk (the full snapshot) is the first one
    # fetched, the first page's chunks come after the second page's.
    target_chunk = second_page[1]
    t = (target_chunk["first_ts"] - session_start) / 1000 + 0.5
    log = await net_log(player)
    at_target = await open_replay(player, f"{server.url}/sessions/{sid}?t={t:.1f}")
    assert (await player.locator("span.time").inner_text()).startswith(clock(t * 1000) + " /")
    order = [int(u.rsplit("/", 1)[1]) for u in log.matching(f"/sessions/{sid}/chunks/")]
    first_page_idx = {i["idx"] for i in items if i["page"] == 0}
    assert order[0] == second_page[0]["idx"], order
    assert max(order.index(i["idx"]) for i in second_page) < min(
        order.index(i) for i in first_page_idx
    )
    # A second open in the same browser costs no chunk bytes: all from the cache.
    for url in log.matching("/chunks/"):
        response = log.responses[url]
        assert response.get("fromDiskCache") or response["status"] == 304, response
    assert log.bytes_of("/chunks/") < 2000
    # After the backfill, seeking back to the start draws the first page.
    await player.locator(".scrubber-input").fill("0")
    frame = await replay_frame(player)
    await player.wait_for_timeout(500)
    start_body: str = await frame.evaluate(WITHOUT_HOVER)

    # The same moments through the events API (the decoder blocked): the same DOM.
    reference = await player.context.new_page()
    await reference.route("**/zstd.wasm", lambda route: route.abort())
    assert await open_replay(reference, f"{server.url}/sessions/{sid}?t={end_t:.0f}") == at_end
    assert await source(reference) == "events"
    assert await open_replay(reference, f"{server.url}/sessions/{sid}?t={t:.1f}") == at_target
    assert await open_replay(reference, f"{server.url}/sessions/{sid}?t=0") == start_body
    assert start_body != at_target

    # A corrupt chunk of the first page (not its snapshot): reported missing, the rest plays.
    broken = [i for i in items if i["page"] == 0][2]
    corrupt_blob(server.data_dir, sid, broken["idx"])
    fresh = await login(browser, server, account)  # a new context: nothing cached
    body = await open_replay(fresh, f"{server.url}/sessions/{sid}?t={end_t:.0f}")
    assert await source(fresh) == "chunks"
    notices = await fresh.locator(".notices").inner_text()
    assert f"chunk {broken['idx']}: corrupt" in notices and "page 1 is missing" in notices
    assert body == at_end  # the second page is whole
    assert errors == []
    await player.context.close()
    await fresh.context.close()


def corrupt_blob(data_dir: Path, sid: str, idx: int) -> None:
    """Garbage in the middle of the chunk's zstd frame (its header intact)."""
    path = stored_chunk_path(data_dir, sid, idx)
    data = path.read_bytes()
    middle = len(data) // 2
    path.write_bytes(data[:middle] + b"\xff" * 16 + data[middle + 16 :])


async def dictionary_chunk(server: ServerProcess, account: Account, sid: str) -> int:
    """The dictionary id in the header of the session's first chunk."""
    headers = {"Authorization": f"Bearer {account.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/api/v1/sessions/{sid}/chunks/0", headers=headers) as response,
    ):
        blob = await response.read()
    assert blob[:4] == b"RSCK"
    return int.from_bytes(blob[5:9], "big") if blob[4] == 2 else 0


async def test_a_session_compressed_with_the_site_dictionary_replays(
    training_server: ServerProcess, browser: Browser
) -> None:
    server = training_server
    account = create_account(server, ORIGIN)
    start = int(time.time() * 1000) - 7_200_000
    for pages in site_sessions(21, 60, max_pages=1, start_ms=start):
        await record(server, account.site_key, pages)

    later_pages = site_sessions(22, 3, max_pages=1, start_ms=start + 3_600_000)

    async def compressed_with_a_dictionary() -> tuple[str, int] | None:
        pages = later_pages.pop(0) if later_pages else None
        if pages is None:
            later_pages.extend(site_sessions(23, 3, max_pages=1, start_ms=start + 5_000_000))
            return None
        sid = await record(server, account.site_key, pages)
        await stored_detail(server, account, sid, len(pages[0]))
        dict_id = await dictionary_chunk(server, account, sid)
        return (sid, dict_id) if dict_id else None

    sid, dict_id = await wait_for(compressed_with_a_dictionary, timeout=120, interval=0.5)
    player = await login(browser, server, account)
    log = await net_log(player)
    body = await open_replay(player, f"{server.url}/sessions/{sid}?t=3600")
    assert await source(player) == "chunks"
    dictionary_urls = log.matching(f"/sites/{account.site_id}/dictionaries/{dict_id}")
    assert len(dictionary_urls) == 1  # once, however many chunks name it
    assert log.responses[dictionary_urls[0]]["status"] == 200
    assert "site-footer" in body

    reference = await player.context.new_page()
    await reference.route("**/zstd.wasm", lambda route: route.abort())
    assert await open_replay(reference, f"{server.url}/sessions/{sid}?t=3600") == body
    assert await source(reference) == "events"
    await player.context.close()
