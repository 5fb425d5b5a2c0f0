"""The default IP mode in a real server process behind a trusted proxy: the
visitor's full address (X-Forwarded-For 203.0.113.77) is written nowhere: not
in the database, the blobs (decompressed), the spool, nor the server's logs."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import msgpack
import pytest

from replay_server.chunks.format import decompress_chunk
from replay_server.logs import redact_ips, truncate_ip
from tests.e2e.conftest import create_account
from tests.procs import ServerProcess, start_server, stop_server
from tests.rrweb_events import page_events

VISITOR_IP = "203.0.113.77"
ORIGIN = "http://shop.client.test"
HEADERS = {"X-Forwarded-For": VISITOR_IP, "Origin": ORIGIN, "User-Agent": "Mozilla/5.0 Test"}


def test_truncation_and_redaction() -> None:
    assert truncate_ip(VISITOR_IP) == "203.0.113.0"
    assert truncate_ip("2001:db8:1:2::5") == "2001:db8:1::"
    assert truncate_ip("::ffff:203.0.113.77") == "203.0.113.0"
    assert truncate_ip("not an ip") == "not an ip"
    line = f"from {VISITOR_IP}, [2001:db8:1:2::5]:443 at 12:34:56 v1.2.3"
    assert redact_ips(line) == "from 203.0.113.0, [2001:db8:1::]:443 at 12:34:56 v1.2.3"


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "data", REPLAY_TRUSTED_PROXIES="127.0.0.1")
    try:
        yield server
    finally:
        stop_server(server)


async def visit(server: ServerProcess, site_key: str) -> None:
    hello = {
        "v": 1,
        "site": site_key,
        "sid": str(uuid.uuid4()),
        "vid": str(uuid.uuid4()),
        "page": 0,
        "url": ORIGIN + "/",
        "referrer": "",
        "title": "Shop",
        "viewport": [800, 600],
        "screen": [800, 600],
        "lang": "en",
        "tz": "UTC",
        "clock": int(time.time() * 1000),
    }
    events = page_events(int(time.time() * 1000), href=ORIGIN + "/")
    async with aiohttp.ClientSession() as http:
        ws_url = server.url.replace("http", "ws") + "/ingest/ws"
        async with http.ws_connect(ws_url, headers=HEADERS) as ws:
            await ws.send_bytes(msgpack.packb({"t": "hello", **hello}))
            assert msgpack.unpackb(await ws.receive_bytes())["t"] == "welcome"
            await ws.send_bytes(
                msgpack.packb({"t": "batch", "seq": 0, "page": 0, "events": events})
            )
            assert msgpack.unpackb(await ws.receive_bytes()) == {"t": "ack", "seq": 0}
        body = json.dumps(
            {
                "hello": {**hello, "sid": str(uuid.uuid4())},
                "batches": [{"seq": 0, "page": 0, "events": events}],
            }
        )
        async with http.post(
            server.url + "/ingest/batch",
            data=body,
            headers={**HEADERS, "Content-Type": "text/plain"},
        ) as response:
            assert response.status == 200, await response.text()
        for path in ("/opt-out", "/healthz", "/api/v1/sites", "/no-such-page"):
            async with http.get(server.url + path, headers=HEADERS) as response:
                await response.read()


def malformed_request(server: ServerProcess) -> None:
    """Makes aiohttp log "Error handling request from <peer>"."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        s.recv(1024)


def everything_on_disk(data_dir: Path) -> bytes:
    parts = []
    for path in data_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            parts.append(raw)
            if path.suffix == ".rsc":
                parts.append(decompress_chunk(raw))
    with sqlite3.connect(data_dir / "replay.db") as db:
        parts.extend(line.encode() for line in db.iterdump())
    return b"\n".join(parts)


async def test_default_ip_mode_writes_no_full_ip(proxied_server: ServerProcess) -> None:
    account = create_account(proxied_server, ORIGIN)
    await visit(proxied_server, account.site_key)
    await asyncio.to_thread(malformed_request, proxied_server)
    await asyncio.sleep(0.5)
    stop_server(proxied_server)  # SIGTERM: everything pending is chunked

    disk = everything_on_disk(proxied_server.data_dir)
    log = proxied_server.log()
    assert b"Shop" in disk  # the visit was stored...
    assert b"203.0.113.0" in disk  # ...with the address truncated, as ip_mode says
    packed = socket.inet_aton(VISITOR_IP)
    assert VISITOR_IP.encode() not in disk and packed not in disk
    assert VISITOR_IP not in log
    # the logs were written (access log and aiohttp's error line), with no client address
    assert "GET /opt-out" in log and "Error handling request from 127.0.0.0" in log
    assert [
        line for line in log.splitlines() if "127.0.0.1" in line and "Running on" not in line
    ] == []
