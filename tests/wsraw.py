"""A hand-made WebSocket client over raw sockets, for tests that must send what
no library sends: unfinished frames, idle upgrades, trickled headers."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path
from typing import Any

import msgpack

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade(origin: str, extra: str = "") -> bytes:
    return (
        "GET /ingest/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n{extra}\r\n"
    ).encode()


async def open_ws(
    port: int, origin: str, host: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port, local_addr=(host, 0))
    writer.write(upgrade(origin))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


def frame_header(length: int, opcode: int = 2, fin: bool = True) -> bytes:
    """A masked client frame header (mask key 0: the payload goes as it is)."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + b"\0\0\0\0"


def frame(message: dict[str, Any]) -> bytes:
    payload = msgpack.packb(message)
    return frame_header(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader, timeout: float) -> tuple[int, bytes]:
    """(opcode, payload) of the server's next frame; (-1, b"") at end of stream."""
    try:
        first, second = await asyncio.wait_for(reader.readexactly(2), timeout)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        return first & 0x0F, await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return -1, b""


async def refusal(reader: asyncio.StreamReader, timeout: float) -> tuple[str, int]:
    """The code of the server's `error` frame and the close code after it."""
    code, close = "", -1
    while True:
        opcode, payload = await read_frame(reader, timeout)
        if opcode == 2:
            code = msgpack.unpackb(payload).get("code", "")
        elif opcode == 8:
            close = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            return code, close
        elif opcode == -1:
            return code, close


def rss_kib(pid: int) -> int:
    """VmRSS of one process (what the connections of `serve` hold lives in its
    main process; the workers it starts on first use are not counted)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))
