"""Server CPU per replay opened (issue 17): a real `replay-server serve`
process ingests recordings through protocol v1 until its site has a dictionary
and later sessions are stored with it; then each of those sessions is opened
(a) as the player did until now, through the JSON events API (decode every
chunk, encode JSON, gzip it), and (b) as stored: the session's chunk list, its
chunk blobs and the site dictionary (once per site, then from the browser's
cache). CPU is the server process's own (user + system, /proc), measured
around each way with nothing else running; figures are ms of CPU per replay
and per MB served.

    .venv/bin/python -m benchmarks.storage_serve [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from websockets.asyncio.client import connect

from benchmarks.storage_pages import cached_pages
from replay_server.chunks.format import chunk_dictionary_id
from tests.procs import create_site_and_token, start_server, stop_server, ws_url

ORIGIN = "http://shop.test"


def dashboard_session(minutes: int, start_ms: int, seed: int = 3) -> list[dict[str, Any]]:
    """A long single-page session of a live dashboard: a table of 60 rows whose
    cells and row classes change every second (as issue 17's 60-minute session),
    and the mouse moving over it."""
    rng = random.Random(seed)
    cells: list[int] = []
    rows = []
    next_id = 10
    for _ in range(60):
        row_id, next_id = next_id, next_id + 1
        tds = []
        for c in range(8):
            text_id, td_id = next_id, next_id + 1
            next_id += 2
            cells.append(text_id)
            tds.append(
                {
                    "type": 2,
                    "tagName": "td",
                    "attributes": {"class": f"c{c}"},
                    "id": td_id,
                    "childNodes": [
                        {"type": 3, "textContent": f"{rng.random():.4f}", "id": text_id}
                    ],
                }
            )
        rows.append(
            {
                "type": 2,
                "tagName": "tr",
                "attributes": {"class": "row"},
                "childNodes": tds,
                "id": row_id,
            }
        )
    table = {
        "type": 2,
        "tagName": "table",
        "attributes": {"id": "live"},
        "childNodes": rows,
        "id": 5,
    }
    body = {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [table], "id": 4}
    html = {"type": 2, "tagName": "html", "attributes": {}, "childNodes": [body], "id": 3}
    doc = {
        "type": 0,
        "id": 1,
        "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2}, html],
    }
    events: list[dict[str, Any]] = [
        {"type": 4, "timestamp": start_ms,
         "data": {"href": f"{ORIGIN}/dash", "width": 1280, "height": 800}},
        {"type": 2, "timestamp": start_ms + 1,
         "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}}},
    ]  # fmt: skip
    row_ids = [r["id"] for r in rows]
    for second in range(minutes * 60):
        t = start_ms + 1000 * (second + 1)
        texts = [{"id": i, "value": f"{rng.random():.4f}"} for i in rng.sample(cells, 80)]
        classes = [{"id": i, "attributes": {"class": rng.choice(["row up", "row down", "row"])}}
                   for i in rng.sample(row_ids, 30)]  # fmt: skip
        change = {"source": 0, "texts": texts, "attributes": classes, "removes": [], "adds": []}
        events.append({"type": 3, "timestamp": t, "data": change})
        positions = [
            {"x": 600 + rng.randrange(-50, 50), "y": 400 + rng.randrange(-50, 50),
             "id": rng.choice(row_ids), "timeOffset": -100 * k}
            for k in range(5)
        ]  # fmt: skip
        events.append(
            {"type": 3, "timestamp": t + 500, "data": {"source": 1, "positions": positions}}
        )
    return events


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def restamped(page: list[dict[str, Any]], start_ms: int) -> list[dict[str, Any]]:
    shift = start_ms - page[0]["timestamp"]
    return [{**e, "timestamp": e["timestamp"] + shift} for e in page]


async def ingest(url: str, site_key: str, page: list[dict[str, Any]]) -> str:
    sid = str(uuid.uuid4())
    hello = {
        "t": "hello", "v": 1, "site": site_key, "sid": sid, "vid": str(uuid.uuid4()),
        "page": 0, "url": f"{ORIGIN}/", "referrer": "", "title": "Shop", "viewport": [1280, 800],
        "screen": [1920, 1080], "lang": "en", "tz": "UTC", "clock": int(time.time() * 1000),
    }  # fmt: skip
    chunks = [page[i : i + 500] for i in range(0, len(page), 500)]  # batches
    async with connect(url, origin=ORIGIN, max_size=None) as ws:  # type: ignore[arg-type]
        await ws.send(msgpack.packb(hello))
        assert msgpack.unpackb(await ws.recv())["t"] == "welcome"
        for seq, events in enumerate(chunks):
            await ws.send(msgpack.packb({"t": "batch", "seq": seq, "page": 0, "events": events}))
        while True:
            reply = msgpack.unpackb(await ws.recv())
            assert reply["t"] == "ack", reply
            if reply["seq"] == len(chunks) - 1:
                break
    return sid


async def wait_for(probe: Any, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        if time.monotonic() > deadline:
            raise TimeoutError("server did not get there in time")
        await asyncio.sleep(0.5)
    return value


async def run(repeat: int, pages: list[list[dict[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp) / "data",
            REPLAY_CHUNK_MAX_AGE_SECONDS="1",
            REPLAY_RETENTION_SWEEP_SECONDS="2",  # the dictionary trainer's cadence too
            REPLAY_RATE_BYTES_PER_SESSION="1000000000",
            REPLAY_RATE_BURST_BYTES_PER_SESSION="1000000000",
            REPLAY_RATE_PER_SESSION="100000",
            REPLAY_RATE_BURST_PER_SESSION="100000",
        )
        try:
            site_key, token = create_site_and_token(server, ORIGIN)
            headers = {"Authorization": f"Bearer {token}"}
            now = int(time.time() * 1000) - 3_600_000
            half = len(pages) // 2
            async with aiohttp.ClientSession(server.url, headers=headers) as http:
                for i, page in enumerate(pages[:half]):
                    await ingest(ws_url(server), site_key, restamped(page, now + i * 20_000))

                async def site_id() -> int:
                    async with http.get("/api/v1/sites") as r:
                        return int((await r.json())["sites"][0]["id"])

                site = await site_id()

                async def dictionary_in_use() -> bool:
                    sid = await ingest(ws_url(server), site_key, restamped(pages[0], now))
                    await asyncio.sleep(2)
                    async with http.get(f"/api/v1/sessions/{sid}/chunks/0") as r:
                        return r.status == 200 and chunk_dictionary_id(await r.read()) != 0

                await wait_for(dictionary_in_use)
                sids = [
                    await ingest(
                        ws_url(server), site_key, restamped(p, now + 1_800_000 + i * 20_000)
                    )
                    for i, p in enumerate(pages[half:])
                ]
                await asyncio.sleep(3)  # every chunk cut and stored
                print(f"{len(sids)} sessions of the 12-page shop (one page view each):")
                await measure(http, server.process.pid, sids, site, repeat)
                long = dashboard_session(60, now)
                size = len(json.dumps(long)) / 1e6
                sid = await ingest(ws_url(server), site_key, long)
                await asyncio.sleep(5)
                print(f"a 60-minute dashboard session ({size:.1f} MB of JSON events):")
                await measure(http, server.process.pid, [sid], site, 3)
        finally:
            stop_server(server)


async def measure(
    http: aiohttp.ClientSession, pid: int, sids: list[str], site: int, repeat: int
) -> None:
    async def events_api() -> int:
        served = 0
        for sid in sids:
            async with http.get(
                f"/api/v1/sessions/{sid}/events", headers={"Accept-Encoding": "gzip"}
            ) as r:
                assert r.status == 200
                served += int(r.headers.get("Content-Length") or 0) or len(await r.read())
                await r.read()
        return served

    dictionaries: set[int] = set()

    async def as_stored() -> int:
        served = 0
        for sid in sids:
            async with http.get(f"/api/v1/sessions/{sid}") as r:
                body = await r.read()
                served += len(body)
                items = json.loads(body)["chunks"]["items"]
            for item in items:
                async with http.get(f"/api/v1/sessions/{sid}/chunks/{item['idx']}") as r:
                    blob = await r.read()
                    served += len(blob)
                dict_id = chunk_dictionary_id(blob)
                if dict_id and dict_id not in dictionaries:  # fetched once, then cached
                    dictionaries.add(dict_id)
                    async with http.get(f"/api/v1/sites/{site}/dictionaries/{dict_id}") as r:
                        served += len(await r.read())
        return served

    for name, way in (("events API (JSON, gzip)", events_api), ("chunks as stored", as_stored)):
        await way()  # warm: the reader's dictionary cache, the database's pages
        before = cpu_seconds(pid)
        served = 0
        for _ in range(repeat):
            served += await way()
        cpu_ms = (cpu_seconds(pid) - before) * 1000
        opened = repeat * len(sids)
        print(
            f"{name:<24} {opened} replays opened, {served / 1e6:.2f} MB served: "
            f"{cpu_ms / opened:.2f} ms CPU per replay, {cpu_ms / (served / 1e6):.1f} ms CPU per MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pages-cache", type=Path, default=Path("/tmp/replay-storage-pages-v2.json")
    )
    parser.add_argument("--pages", type=int, default=80)
    args = parser.parse_args()
    asyncio.run(run(args.repeat, cached_pages(args.pages_cache, args.pages, 12.0)))


if __name__ == "__main__":
    main()
