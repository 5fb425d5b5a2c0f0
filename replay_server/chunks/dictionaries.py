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
it, so it follows the site as its pages change, or sooner when the site
changed under it: when its newest RATIO_WINDOW chunks came out
RATIO_WORSENED times bigger (stored / msgpack bytes) than its first
RATIO_WINDOW did (a redesign; windows of chunks, so that a mix of snapshots
and mouse moves averages out).

Privacy: a dictionary is made of pieces of its samples and outlives the
sessions it was trained on (retention and erasure delete sessions, not the
dictionaries other sessions' chunks need). So samples are scrubbed first
(scrubbed()): a string stays only when it is structure (tag and doctype names,
style sheets, the values of a few structural attributes: class, style, rel,
type, ...) or when at least MIN_VISITORS_PER_STRING different visitors' chunks
hold it (the site's own text: navigation, footers, popular pages). Text,
attribute values, URLs and plugin data (console, network) that fewer visitors
saw, such as a visitor's name on their account page, become "": they never
reach a dictionary.

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
RATIO_WINDOW = 100
RATIO_WORSENED = 1.3
MIN_VISITORS_PER_STRING = 5
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
    # stored / msgpack bytes of the first and of the newest RATIO_WINDOW chunks
    # compressed with the newest dictionary (0 while there are too few)
    first_ratio: float = 0.0
    recent_ratio: float = 0.0


def decide(volume: SiteVolume) -> bool:
    """Whether to train a (new) dictionary for the site now."""
    if not volume.has_dictionary:
        return volume.chunks >= MIN_CHUNKS and volume.raw_bytes >= MIN_RAW_BYTES
    if volume.chunks_with_newest >= RETRAIN_AFTER_CHUNKS:
        return True
    return (
        volume.chunks_with_newest >= 2 * RATIO_WINDOW
        and volume.first_ratio > 0
        and volume.recent_ratio > RATIO_WORSENED * volume.first_ratio
    )


@dataclass(frozen=True)
class Trained:
    data: bytes
    sample_count: int
    sample_bytes: int


def strings_of(value: Any, into: set[str]) -> set[str]:
    """Every string value in `value` (an event), keys left out."""
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, list):
        for item in value:
            strings_of(item, into)
    elif isinstance(value, dict):
        for item in value.values():
            strings_of(item, into)
    return into


def common_strings(events_by_visitor: list[tuple[str, list[dict[str, Any]]]]) -> frozenset[str]:
    """Strings that at least MIN_VISITORS_PER_STRING different visitors' events hold."""
    seen: dict[str, set[str]] = {}
    for visitor, events in events_by_visitor:
        seen.setdefault(visitor, set())
        for event in events:
            strings_of(event, seen[visitor])
    counts: dict[str, int] = {}
    for strings in seen.values():
        for s in strings:
            counts[s] = counts.get(s, 0) + 1
    return frozenset(s for s, n in counts.items() if n >= MIN_VISITORS_PER_STRING)


def scrubbed(value: Any, common: frozenset[str] = frozenset()) -> Any:
    """`value` (an event) with every string that could say something about a
    visitor emptied: structure, tag and class names, CSS and `common` strings
    (common_strings()) are left."""
    if isinstance(value, str):
        return value if value in common else ""
    if isinstance(value, list):
        return [scrubbed(v, common) for v in value]
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
                else scrubbed(v, common)
                for name, v in item.items()
            }
        elif key in kept and isinstance(item, str):
            out[key] = item
        elif key == "textContent" and value.get("isStyle") is True:
            out[key] = item  # a style element's CSS
        else:
            out[key] = scrubbed(item, common)
    return out


def samples_of(
    events: list[dict[str, Any]],
    common: frozenset[str] = frozenset(),
    piece: int = SAMPLE_PIECE_BYTES,
) -> list[bytes]:
    """The msgpack of runs of consecutive events, scrubbed (keeping `common`
    strings), each up to `piece` bytes."""
    samples: list[bytes] = []
    run = bytearray()
    for event in events:
        packed = pack(scrubbed(event, common))
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
    blobs: list[tuple[str, bytes]],
    dictionaries: list[ChunkDictionary],
    size: int = DICTIONARY_BYTES,
) -> Trained | None:
    """Train on stored chunk blobs, each with its session's visitor id (newest
    first; each decoded with the dictionary it names, from `dictionaries`),
    using up to MAX_SAMPLE_BYTES of samples. A blob that cannot be decoded is
    skipped."""
    known = {d.id: d for d in dictionaries}
    decoded: list[tuple[str, list[dict[str, Any]]]] = []
    for visitor, blob in blobs:
        try:
            decoded.append((visitor, decode_chunk(blob, known.get(chunk_dictionary_id(blob)))))
        except CorruptChunk:
            continue
    common = common_strings(decoded)
    samples: list[bytes] = []
    total = 0
    for _, events in decoded:
        if total >= MAX_SAMPLE_BYTES:
            break
        for sample in samples_of(events, common):
            samples.append(sample)
            total += len(sample)
    data = train(samples, size)
    if data is None:
        return None
    return Trained(data, len(samples), total)
