"""Hellos carrying strings no database can store, sent over real sockets among
legitimate ones: a User-Agent with a raw 0xFF byte (aiohttp keeps it as the
lone surrogate '\\udcff'), JSON-fallback hellos whose title and URL hold lone
surrogates or NUL. Each is stored cleaned, and none fails another hello of
its group commit. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import uuid
from base64 import b64encode
from typing import Any

import aiohttp
import msgpack
from sqlalchemy import select

from replay_server import keys
from replay_server.db.models import PageView, RecordedSession
from tests.conftest import BOTH_DATABASES
from tests.ingest_server import ORIGIN, IngestServer, Recorder

pytestmark = BOTH_DATABASES

RAW_UA = b"Mozilla/5.0 (X11; Linux) \xff\xfe Chrome/140.0"


async def raw_ws_hello(server: IngestServer, hello: dict[str, Any], user_agent: bytes) -> Any:
    """A WebSocket upgrade written by hand (clients refuse non-ASCII header
    bytes), then the hello; returns the server's first message."""
    host, port = server.server.host, server.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        key = b64encode(os.urandom(16))
        writer.write(
            b"GET /ingest/ws HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
            + b"\r\nSec-WebSocket-Version: 13\r\nOrigin: " + ORIGIN.encode()
            + b"\r\nUser-Agent: " + user_agent + b"\r\n\r\n"
        )  # fmt: skip
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        writer.write(_client_frame(msgpack.packb(hello)))
        return msgpack.unpackb(await asyncio.wait_for(_read_frame(reader), 10))
    finally:
        writer.close()


def _client_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    if len(payload) < 126:
        header = struct.pack("!BB", 0x82, 0x80 | len(payload))
    else:
        header = struct.pack("!BBH", 0x82, 0x80 | 126, len(payload))
    return header + mask + masked


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    first, second = await reader.readexactly(2)
    assert first & 0x0F == 0x2, first  # binary
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return await reader.readexactly(length)


async def json_fallback_hello(server: IngestServer, body: bytes) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.http_url}/ingest/batch",
            data=body,
            headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


def fallback_body(recorder: Recorder, title: str, path: str) -> bytes:
    # json.dumps escapes a lone surrogate as \ud800, as a hostile client sends it
    hello = recorder.hello(title=title, url=f"{ORIGIN}/{path}")
    return json.dumps({"hello": hello, "batches": []}).encode()


async def test_hostile_hello_strings_are_stored_cleaned_and_fail_no_other_hello(
    ingest: IngestServer,
) -> None:
    good = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(80)]
    by_ua = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(13)]
    by_json = [Recorder(ingest.ws_url, ingest.site_key) for _ in range(13)]
    try:
        results = await asyncio.gather(
            *(r.connect() for r in good),
            *(raw_ws_hello(ingest, r.hello(), RAW_UA) for r in by_ua),
            *(
                json_fallback_hello(ingest, fallback_body(r, f"Title \ud800 {i}\x00", "p\udcff"))
                for i, r in enumerate(by_json)
            ),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(r.close() for r in good))

    welcomes = results[: len(good) + len(by_ua)]
    assert all(isinstance(w, dict) and w.get("t") == "welcome" for w in welcomes), welcomes
    assert all(isinstance(r, dict) and r["acked"] == -1 for r in results[len(welcomes) :])
    async with ingest.app[keys.DB]() as db:
        sessions = {s.id: s for s in (await db.scalars(select(RecordedSession))).all()}
        views = {v.session_id: v for v in (await db.scalars(select(PageView))).all()}
    assert set(sessions) == {r.sid for r in [*good, *by_ua, *by_json]}
    for r in by_ua:
        assert sessions[r.sid].user_agent == "Mozilla/5.0 (X11; Linux) \ufffd\ufffd Chrome/140.0"
        assert sessions[r.sid].browser == "Chrome"
    for i, r in enumerate(by_json):
        assert views[r.sid].title == f"Title \ufffd {i}"
        assert views[r.sid].url == sessions[r.sid].entry_url == f"{ORIGIN}/p\ufffd"


async def test_a_nul_in_any_hello_string_is_dropped(ingest: IngestServer) -> None:
    recorder = Recorder(ingest.ws_url, ingest.site_key)
    body = json.dumps(
        {
            "hello": recorder.hello(
                title="a\x00b",
                url=f"{ORIGIN}/x\x00?utm_source=a\x00d",
                referrer="https://ref.test/\x00",
                lang="en\x00",
                tz="UTC\x00",
            ),
            "batches": [],
        }
    ).encode()
    assert (await json_fallback_hello(ingest, body))["acked"] == -1
    async with ingest.app[keys.DB]() as db:
        session = await db.get(RecordedSession, recorder.sid)
        view = await db.get(PageView, (recorder.sid, 0))
    assert session is not None and view is not None
    assert (session.entry_url, session.utm_source) == (f"{ORIGIN}/x?utm_source=ad", "ad")
    assert (session.referrer, session.referrer_domain) == ("https://ref.test/", "ref.test")
    assert (session.lang, session.tz, view.title) == ("en", "UTC", "ab")
    assert str(uuid.UUID(session.id)) == recorder.sid
