"""Training a site's zstd dictionary from its own chunks, and when to.

Most chunks are small (one page view's events of up to 30 s), and zstd starts
each of them knowing nothing: a dictionary trained on the site's own events
(its markup, class names, style sheets, event shapes) lets the first bytes of
every chunk refer to it. DESIGN.md section 9 measured chunks 2.6x smaller with
a 16 KB dictionary; docs/benchmarks.md ("Storage (issue 17)") has ours.

Samples are many smallish pieces, as zstd's trainer wants: the msgpack of runs
of consecutive events up to SAMPLE_PIECE_BYTES (an event bigger than that, a
full snapshot, is cut into pieces of that size), from the site's newest chunks.

When (decide()): a site without a dictionary gets one once its stored chunks
reach MIN_CHUNKS and MIN_RAW_BYTES of msgpack (fewer samples train a
dictionary that fits a few pages and nothing else); a site's newest
dictionary is replaced once RETRAIN_AFTER_CHUNKS chunks were compressed with
it, so it follows the site as its pages change (a count, not a ratio: simple to
reason about, and a site that changes fast also records fast).

Privacy: a dictionary is made of pieces of its samples and outlives the
sessions it was trained on (retention and erasure delete sessions, not the
dictionaries other sessions' chunks need). So samples are scrubbed first
(scrubbed()): every string becomes "" except tag names, doctype names, style
sheets and the values of a few structural attributes (class, style, rel,
type, ...). Page text, input values, URLs, alt texts, titles and plugin data
(console, network) never reach a dictionary; the structure, class names and
CSS, which make most of what repeats, do.

Everything here is CPU work on bytes: it runs in the chunk worker process
(ChunkBuilder.run), never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import zstandard

from replay_server.bounds import pack
from replay_server.chunks.format import (
    ZSTD_DICTIONARY_LEVEL,
    ChunkDictionary,
    chunk_dictionary_id,
    decode_chunk,
)
from replay_server.errors import CorruptChunk

DICTIONARY_BYTES = 16 * 1024
SAMPLE_PIECE_BYTES = 4 * 1024
MIN_CHUNKS = 20
MIN_RAW_BYTES = 1024 * 1024  # ~64x the dictionary; zstd suggests ~100x
MAX_SAMPLE_BYTES = 8 * 1024 * 1024  # training time grows with it; more adds little
MIN_SAMPLES = 64
RETRAIN_AFTER_CHUNKS = 2000
# Strings kept in samples: these keys of serialized nodes of these types
# (rrweb's NodeType: 1 doctype, 2 element), and the values of these attributes.
KEPT_KEYS = {1: frozenset({"name", "publicId", "systemId"}), 2: frozenset({"tagName"})}
KEPT_ATTRIBUTES = frozenset(
    {"class", "style", "_cssText", "rel", "type", "role", "lang", "dir", "media", "charset",
     "width", "height", "loading", "decoding", "crossorigin", "tabindex", "hidden"}
)  # fmt: skip


@dataclass(frozen=True)
class SiteVolume:
    """What a site has stored, as far as the decision needs it."""

    chunks: int  # stored chunks
    raw_bytes: int  # their msgpack size
    has_dictionary: bool
    chunks_with_newest: int  # chunks compressed with the newest dictionary


def decide(volume: SiteVolume) -> bool:
    """Whether to train a (new) dictionary for the site now."""
    if not volume.has_dictionary:
        return volume.chunks >= MIN_CHUNKS and volume.raw_bytes >= MIN_RAW_BYTES
    return volume.chunks_with_newest >= RETRAIN_AFTER_CHUNKS


@dataclass(frozen=True)
class Trained:
    data: bytes
    sample_count: int
    sample_bytes: int


def scrubbed(value: Any) -> Any:
    """`value` (an event) with every string that could say something about a
    visitor emptied: only structure, tag and class names and CSS are left."""
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    node_type = value.get("type")
    kept = KEPT_KEYS.get(node_type, frozenset()) if isinstance(node_type, int) else frozenset()
    for key, item in value.items():
        if key == "attributes" and isinstance(item, dict):
            out[key] = {
                name: v
                if name in KEPT_ATTRIBUTES and not isinstance(v, list | dict)
                else scrubbed(v)
                for name, v in item.items()
            }
        elif key in kept and isinstance(item, str):
            out[key] = item
        elif key == "textContent" and value.get("isStyle") is True:
            out[key] = item  # a style element's CSS
        else:
            out[key] = scrubbed(item)
    return out


def samples_of(events: list[dict[str, object]], piece: int = SAMPLE_PIECE_BYTES) -> list[bytes]:
    """The msgpack of runs of consecutive (scrubbed) events, each up to `piece` bytes."""
    samples: list[bytes] = []
    run = bytearray()
    for event in events:
        packed = pack(scrubbed(event))
        if run and len(run) + len(packed) > piece:
            samples.append(bytes(run))
            run.clear()
        if len(packed) > piece:
            samples.extend(packed[i : i + piece] for i in range(0, len(packed), piece))
            continue
        run += packed
    if run:
        samples.append(bytes(run))
    return samples


def train(samples: list[bytes], size: int = DICTIONARY_BYTES) -> bytes | None:
    """A dictionary of `size` bytes, or None when the samples are too few or
    too alike to train one (zstd refuses)."""
    if len(samples) < MIN_SAMPLES:
        return None
    try:
        pieces: list[bytes | bytearray | memoryview] = list(samples)
        trained = zstandard.train_dictionary(size, pieces, level=ZSTD_DICTIONARY_LEVEL)
    except zstandard.ZstdError:
        return None
    return trained.as_bytes()


def train_from_chunks(
    blobs: list[bytes], dictionaries: list[ChunkDictionary], size: int = DICTIONARY_BYTES
) -> Trained | None:
    """Train on stored chunk blobs (newest first; each decoded with the
    dictionary it names, from `dictionaries`), using up to MAX_SAMPLE_BYTES of
    samples. A blob that cannot be decoded is skipped."""
    known = {d.id: d for d in dictionaries}
    samples: list[bytes] = []
    total = 0
    for blob in blobs:
        if total >= MAX_SAMPLE_BYTES:
            break
        try:
            events = decode_chunk(blob, known.get(chunk_dictionary_id(blob)))
        except CorruptChunk:
            continue
        for sample in samples_of(events):
            samples.append(sample)
            total += len(sample)
    data = train(samples, size)
    if data is None:
        return None
    return Trained(data, len(samples), total)
