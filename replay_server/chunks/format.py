"""The stored chunk format, version 1.

    b"RSCK" | version (1 byte) | zstd frame of msgpack(list of rrweb events)

An unknown magic or version fails loudly (CorruptChunk) rather than returning
garbage: stored data outlives the code that wrote it.
"""

from __future__ import annotations

from typing import Any

import msgpack
import zstandard

from replay_server.bounds import pack
from replay_server.errors import CorruptChunk
from replay_server.protocol import decode_msgpack

MAGIC = b"RSCK"
FORMAT_VERSION = 1
# A chunk row whose blob is a batch that could not be chunked, kept as its raw
# spool record for inspection (dead letter): it reads back as missing.
QUARANTINED = 0
ZSTD_LEVEL = 3
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024


def encode_chunk(events: list[dict[str, Any]]) -> tuple[bytes, int]:
    """Return (chunk bytes, size of the uncompressed msgpack)."""
    raw = pack(events)
    compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)
    return MAGIC + bytes([FORMAT_VERSION]) + compressed, len(raw)


def decode_chunk(data: bytes) -> list[dict[str, Any]]:
    if len(data) < 5 or data[:4] != MAGIC:
        raise CorruptChunk("not a replay chunk (bad magic)")
    version = data[4]
    if version != FORMAT_VERSION:
        raise CorruptChunk(f"unknown chunk format version {version}")
    try:
        raw = zstandard.ZstdDecompressor().decompress(
            data[5:], max_output_size=MAX_DECOMPRESSED_BYTES
        )
        events = decode_msgpack(raw)
    except (zstandard.ZstdError, ValueError, msgpack.UnpackException) as e:
        raise CorruptChunk(f"chunk cannot be decoded: {e}") from e
    if not isinstance(events, list):
        raise CorruptChunk("chunk does not hold a list of events")
    return events
