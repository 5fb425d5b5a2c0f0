"""Player benchmark (issue 5), in Chromium.

Generates a 60-minute session (a DOM mutation every second, mouse movement
throughout: ~11k events), stored the way the server stores it: batches cut
into 30-second chunks by the real chunker, written to the real BlobStore and
recorded in the database by the real catalog. Then starts `replay-server
serve`, logs in with Chromium, opens the player and prints:

- time from opening the player (navigation start) to the first frame, and how
  much of the session had been downloaded by then;
- the tab's JS heap (CDP Performance.getMetrics, JSHeapUsedSize after a forced
  GC) at the first frame and after playing the whole session through (seeking
  to every minute, then to the end).

    .venv/bin/python benchmarks/player.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from replay_server.accounts import orgs as accounts
from replay_server.chunks.cut import build_chunks
from replay_server.db.engine import make_engine, make_session_factory
from replay_server.db.migrate import upgrade
from replay_server.ingest.catalog import Catalog
from replay_server.protocol import Hello
from replay_server.settings import Settings
from replay_server.spool.records import SpoolEntry
from replay_server.storage import open_blob_store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.procs import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

EMAIL, PASSWORD = "bench@player.test", "benchmark password 1"
BATCH_MS = 5_000
CHUNK_MS = 30_000


def full_snapshot(ts: int) -> list[dict[str, Any]]:
    rows = [
        {"type": 2, "id": 100 + i, "tagName": "li", "attributes": {"class": "row"},
         "childNodes": [{"type": 3, "id": 1000 + i, "textContent": f"Row {i}"}]}
        for i in range(200)
    ]  # fmt: skip
    body = {"type": 2, "id": 4, "tagName": "body", "attributes": {}, "childNodes": [
        {"type": 2, "id": 5, "tagName": "h1", "attributes": {},
         "childNodes": [{"type": 3, "id": 6, "textContent": "Dashboard"}]},
        {"type": 2, "id": 7, "tagName": "p", "attributes": {"id": "clock"},
         "childNodes": [{"type": 3, "id": 8, "textContent": "0"}]},
        {"type": 2, "id": 9, "tagName": "ul", "attributes": {"id": "feed"}, "childNodes": rows},
    ]}  # fmt: skip
    html = {"type": 2, "id": 3, "tagName": "html", "attributes": {}, "childNodes": [body]}
    doctype = {"type": 1, "id": 2, "name": "html", "publicId": "", "systemId": ""}
    return [
        {"type": 4, "timestamp": ts, "data": {"href": "https://bench.test/", "width": 1280,
                                              "height": 800}},
        {"type": 2, "timestamp": ts + 1, "data": {
            "node": {"type": 0, "id": 1, "childNodes": [doctype, html]},
            "initialOffset": {"top": 0, "left": 0}}},
    ]  # fmt: skip


def second_events(ts: int, second: int) -> list[dict[str, Any]]:
    """One second: a text change, an added row (the oldest one removed), mouse movement."""
    node = 10_000 + 2 * second
    mutation = {"type": 3, "timestamp": ts, "data": {
        "source": 0, "texts": [{"id": 8, "value": str(second)}], "attributes": [],
        "removes": [{"parentId": 9, "id": 100 + second if second < 200 else node - 400}],
        "adds": [{"parentId": 9, "nextId": None, "node": {
            "type": 2, "id": node, "tagName": "li", "attributes": {"class": "row"},
            "childNodes": [{"type": 3, "id": node + 1, "textContent": f"Event {second}"}],
        }}]}}  # fmt: skip
    positions = [
        {"x": 200 + (second * 7 + i * 13) % 800, "y": 100 + (second * 3 + i * 11) % 600,
         "id": 4, "timeOffset": -500 + i * 100}
        for i in range(5)
    ]  # fmt: skip
    moves = [
        {"type": 3, "timestamp": ts + half, "data": {"source": 1, "positions": positions}}
        for half in (499, 999)
    ]
    return [mutation, *moves]


async def store_session(settings: Settings, minutes: int) -> tuple[str, int, int]:
    """Write the session through chunker + BlobStore + catalog; (sid, events, chunks)."""
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    blobs = open_blob_store(settings.effective_storage_url)
    try:
        async with factory() as db:
            org = await accounts.ensure_organisation(db, "Bench")
            await accounts.create_user(db, EMAIL, PASSWORD, org_id=org.id, role="owner")
            site = await accounts.create_site(db, org.id, "Bench", ["https://bench.test"])
            await db.commit()
        sid, start = str(uuid.uuid4()), int(time.time() * 1000) - minutes * 60_000 - 60_000
        hello = Hello(site.public_key, sid, str(uuid.uuid4()), 0, "https://bench.test/", "",
                      "Bench", (1280, 800), (1920, 1080), "en", "UTC", start)  # fmt: skip
        catalog = Catalog(factory)
        await catalog.open_session(site.id, hello, "Mozilla/5.0 Chrome/140.0", start)
        events = full_snapshot(start)
        for s in range(minutes * 60):
            events.extend(second_events(start + 1000 + s * 1000, s))
        batches: list[SpoolEntry] = []
        for seq, i in enumerate(range(0, minutes * 60_000 + 2000, BATCH_MS)):
            group = [e for e in events if start + i <= e["timestamp"] < start + i + BATCH_MS]
            if group:
                batches.append(SpoolEntry(site.id, sid, seq, 0, group))
        per_chunk = CHUNK_MS // BATCH_MS
        idx = 0
        for i in range(0, len(batches), per_chunk):
            chunks = await asyncio.to_thread(build_chunks, batches[i : i + per_chunk])
            for chunk in chunks:
                await blobs.put(chunk.blob_key, chunk.data)
            await catalog.chunks.record_chunks(sid, chunks, int(time.time() * 1000))
            idx += len(chunks)
        await catalog.finish_idle_sessions(int(time.time() * 1000) + 1)
        return sid, len(events), idx
    finally:
        await blobs.close()
        await engine.dispose()


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "replay_server", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("server did not start")


async def heap_mb(page: Page) -> float:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    await cdp.send("Performance.enable")
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    await cdp.detach()
    used = next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")
    return float(used) / (1024 * 1024)


async def run_browser(base: str, sid: str, minutes: int) -> dict[str, float]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await page.goto(f"{base}/login")
            await page.fill("input[name=email]", EMAIL)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit], input[type=submit]")
            await page.wait_for_url(f"{base}/")
            await page.goto(f"{base}/sessions/{sid}")
            await page.wait_for_selector("html[data-first-frame-at]", state="attached")
            first_at = float(await page.evaluate("document.documentElement.dataset.firstFrameAt"))
            windows_at_first = float(
                await page.evaluate("document.documentElement.dataset.windowsAtFirstFrame")
            )
            heap_first = await heap_mb(page)
            await page.wait_for_selector("html[data-loaded=true]", state="attached", timeout=60_000)
            windows = float(await page.evaluate("document.documentElement.dataset.windows"))
            loaded_at = float(await page.evaluate("performance.now()"))
            # Play through: at 8x for a while, then every minute of the session, then the end.
            await page.keyboard.press("4")
            await page.wait_for_timeout(3000)
            for _ in range(minutes):
                for _ in range(12):  # 12 x 5 s = one minute
                    await page.keyboard.press("ArrowRight")
                await page.wait_for_timeout(20)
            await page.keyboard.press("Space")
            await page.wait_for_timeout(3000)
            heap_end = await heap_mb(page)
            return {
                "first_frame_ms": first_at,
                "windows_at_first_frame": windows_at_first,
                "windows": windows,
                "loaded_ms": loaded_at,
                "heap_first_mb": heap_first,
                "heap_end_mb": heap_end,
            }
        finally:
            await browser.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="player-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir)
        await asyncio.to_thread(upgrade, settings.effective_database_url)
        sid, n_events, n_chunks = await store_session(settings, args.minutes)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "REPLAY_DATA_DIR": str(data_dir), "REPLAY_HOST": "127.0.0.1"}
        server = start_server(env, port)
        try:
            result = await run_browser(f"http://127.0.0.1:{port}", sid, args.minutes)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result.update(minutes=args.minutes, events=n_events, chunks=n_chunks)
    print(f"session: {args.minutes} min, {n_events} events, {n_chunks} chunks")
    print(
        f"first frame: {result['first_frame_ms']:.0f} ms after navigation start "
        f"(target <= 500 ms), after {result['windows_at_first_frame']:.0f} of "
        f"{result['windows']:.0f} download windows"
    )
    print(f"whole session downloaded at {result['loaded_ms']:.0f} ms")
    print(
        f"JS heap: {result['heap_first_mb']:.1f} MB at first frame, "
        f"{result['heap_end_mb']:.1f} MB after playing through"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
