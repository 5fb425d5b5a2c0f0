"""The stored chunk format, version 2 (version 1 still reads).

    v2: b"RSCK" | 2 | dictionary id (uint32 big-endian, 0 = none) | zstd frame of msgpack(events)
    v1: b"RSCK" | 1 | zstd frame of msgpack(events)

The dictionary is the site's (chunks/dictionaries.py), stored in the database
and served by id; the zstd frame does not repeat its id (write_dict_id off):
the header names it. An unknown magic or version, or a dictionary the caller
cannot supply, fails loudly (CorruptChunk) rather than returning garbage:
stored data outlives the code that wrote it.

Compressor and decompressor objects are not thread-safe, so each thread keeps
its own per dictionary id (a chunk worker process has one thread: one per
process); preparing a dictionary's tables once is what makes small chunks cheap.
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgpack
import zstandard

from replay_server.bounds import pack
from replay_server.errors import CorruptChunk
from replay_server.protocol import decode_msgpack

MAGIC = b"RSCK"
FORMAT_V1 = 1
FORMAT_VERSION = 2
# A chunk row whose blob is a batch that could not be chunked, kept as its raw
# spool record for inspection (dead letter): it reads back as missing.
QUARANTINED = 0
V1_HEADER_BYTES = 5
V2_HEADER_BYTES = 9
NO_DICTIONARY = 0
# Level 3 without a dictionary (as in v1). With a dictionary, level 6: the knee
# measured by benchmarks/storage.py (docs/benchmarks.md, "Storage (issue 17)"):
# 15-20% smaller than level 3 with the same dictionary, within ~2% of level 9
# at 60-75% of its CPU; each chunk is compressed once, in the chunk worker.
ZSTD_LEVEL = 3
ZSTD_DICTIONARY_LEVEL = 6
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
CACHED_DICTIONARIES_PER_THREAD = 32
_HEADER = struct.Struct(">4sBI")
# Keyed by id and bytes: an id of a deleted site's dictionary may come back
# (a new row) with other bytes; a cache keyed by id alone would then compress
# with the wrong dictionary.
_Key = tuple[int, bytes]
_Codec = TypeVar("_Codec", zstandard.ZstdCompressor, zstandard.ZstdDecompressor)


@dataclass(frozen=True)
class ChunkDictionary:
    """A site's trained zstd dictionary: its row id and its bytes."""

    id: int
    data: bytes


def encode_chunk(
    events: list[dict[str, Any]], dictionary: ChunkDictionary | None = None
) -> tuple[bytes, int]:
    """Return (chunk bytes, size of the uncompressed msgpack)."""
    raw = pack(events)
    dict_id = dictionary.id if dictionary is not None else NO_DICTIONARY
    compressed = _codecs().compressor(dictionary).compress(raw)
    return _HEADER.pack(MAGIC, FORMAT_VERSION, dict_id) + compressed, len(raw)


def encode_chunk_v1(events: list[dict[str, Any]]) -> tuple[bytes, int]:
    """The version 1 form (no dictionary): for tests and the storage benchmark."""
    raw = pack(events)
    compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)
    return MAGIC + bytes([FORMAT_V1]) + compressed, len(raw)


def chunk_dictionary_id(data: bytes) -> int:
    """The dictionary a chunk needs (0: none). Checks magic and version."""
    if len(data) < V1_HEADER_BYTES or data[:4] != MAGIC:
        raise CorruptChunk("not a replay chunk (bad magic)")
    version = data[4]
    if version == FORMAT_V1:
        return NO_DICTIONARY
    if version != FORMAT_VERSION:
        raise CorruptChunk(f"unknown chunk format version {version}")
    if len(data) < V2_HEADER_BYTES:
        raise CorruptChunk("chunk header is cut short")
    dict_id: int = _HEADER.unpack_from(data)[2]
    return dict_id


def decompress_chunk(data: bytes, dictionary: ChunkDictionary | None = None) -> bytes:
    """The msgpack a chunk holds. `dictionary` must be the one its header names (if any)."""
    dict_id = chunk_dictionary_id(data)
    if dict_id != NO_DICTIONARY and (dictionary is None or dictionary.id != dict_id):
        raise CorruptChunk(f"chunk needs dictionary {dict_id}, which was not found")
    body = data[V1_HEADER_BYTES:] if data[4] == FORMAT_V1 else data[V2_HEADER_BYTES:]
    try:
        raw: bytes = (
            _codecs()
            .decompressor(dictionary if dict_id else None)
            .decompress(body, max_output_size=MAX_DECOMPRESSED_BYTES)
        )
    except zstandard.ZstdError as e:
        raise CorruptChunk(f"chunk cannot be decoded: {e}") from e
    return raw


def decode_chunk(data: bytes, dictionary: ChunkDictionary | None = None) -> list[dict[str, Any]]:
    """The chunk's events. `dictionary` must be the one its header names (if any)."""
    raw = decompress_chunk(data, dictionary)
    try:
        events = decode_msgpack(raw)
    except (ValueError, msgpack.UnpackException) as e:
        raise CorruptChunk(f"chunk cannot be decoded: {e}") from e
    if not isinstance(events, list):
        raise CorruptChunk("chunk does not hold a list of events")
    return events


class _ThreadCodecs:
    """One thread's compressors and decompressors, per dictionary id (LRU)."""

    def __init__(self) -> None:
        self._plain_c = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._plain_d = zstandard.ZstdDecompressor()
        self._c: OrderedDict[_Key, zstandard.ZstdCompressor] = OrderedDict()
        self._d: OrderedDict[_Key, zstandard.ZstdDecompressor] = OrderedDict()

    def compressor(self, dictionary: ChunkDictionary | None) -> zstandard.ZstdCompressor:
        if dictionary is None:
            return self._plain_c
        return _cached(
            self._c,
            (dictionary.id, dictionary.data),
            lambda: zstandard.ZstdCompressor(
                level=ZSTD_DICTIONARY_LEVEL,
                dict_data=_zstd_dict(dictionary),
                write_dict_id=False,
            ),
        )

    def decompressor(self, dictionary: ChunkDictionary | None) -> zstandard.ZstdDecompressor:
        if dictionary is None:
            return self._plain_d
        return _cached(
            self._d,
            (dictionary.id, dictionary.data),
            lambda: zstandard.ZstdDecompressor(dict_data=_zstd_dict(dictionary)),
        )


def _zstd_dict(dictionary: ChunkDictionary) -> zstandard.ZstdCompressionDict:
    try:
        return zstandard.ZstdCompressionDict(dictionary.data)
    except zstandard.ZstdError as e:
        raise CorruptChunk(f"dictionary {dictionary.id} cannot be loaded: {e}") from e


def _cached(cache: OrderedDict[_Key, _Codec], key: _Key, make: Callable[[], _Codec]) -> _Codec:
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    made = make()
    cache[key] = made
    while len(cache) > CACHED_DICTIONARIES_PER_THREAD:
        cache.popitem(last=False)
    return made


_local = threading.local()


def _codecs() -> _ThreadCodecs:
    codecs: _ThreadCodecs | None = getattr(_local, "codecs", None)
    if codecs is None:
        codecs = _local.codecs = _ThreadCodecs()
    return codecs
