"""Stored bytes of recordings (issue 17): chunk format v1 (zstd-3, no
dictionary), v2 with a dictionary trained on the site's own recordings, and
gzip -6 of the JSON of the same events, with ratios, per corpus:

- fixtures: the recordings under tests/fixtures (real Chromium recordings);
- chromium: several different pages of one shop site recorded in Chromium
  with @rrweb/record (benchmarks/storage_pages.py; cached in --pages-cache);
- generated: generated pages of the same kind of site (tests/chunks/site_pages.py).

Chunks are cut as the ingest path cuts them: one per page view per 30 s
(REPLAY_CHUNK_MAX_AGE_SECONDS) of events. The dictionary is trained as the
server trains it (chunks/dictionaries.py: samples of the chunks, 16 KB) on the
first --train-share of a corpus's page views and measured on the rest. gzip
is of each page view's events as one JSON document (the whole recording, not
per chunk: the harder baseline). Keyframes (issue 17, item 1) are not in the
chunks yet: they will add bytes.

Also per zstd level with the dictionary: bytes, and CPU to compress and to
decompress (ms per MB of msgpack), to choose the chunk worker's level.

    .venv/bin/python -m benchmarks.storage [--pages 45 --seconds 15]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

import replay_server.chunks.format as chunk_format
from benchmarks.storage_pages import cached_pages
from replay_server.bounds import pack
from replay_server.chunks.dictionaries import (
    MAX_SAMPLE_BYTES,
    common_strings,
    samples_of,
    train,
)
from replay_server.chunks.format import ChunkDictionary, decode_chunk, encode_chunk, encode_chunk_v1
from tests.chunks.site_pages import site_sessions

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CHUNK_SECONDS = 30
LEVELS = (3, 6, 9, 12, 15, 19)
Events = list[dict[str, Any]]


def chunks_of(page: Events) -> list[Events]:
    """A page view's events as the ingest path cuts them (30 s of events each)."""
    if not page:
        return []
    start = page[0]["timestamp"]
    windows: dict[int, Events] = {}
    for event in page:
        windows.setdefault(int((event["timestamp"] - start) // (CHUNK_SECONDS * 1000)), []).append(
            event
        )
    return [windows[k] for k in sorted(windows)]


def fixture_pages() -> list[Events]:
    return [json.loads(gzip.decompress(p.read_bytes())) for p in sorted(FIXTURES.glob("*.json.gz"))]


@dataclass
class Measured:
    corpus: str
    pages: int
    chunks: int
    json_bytes: int
    gzip_bytes: int
    v1_bytes: int
    v2_bytes: int | None
    dictionary_note: str


def cpu_ms(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) * 1000


def train_on(pages: list[Events]) -> tuple[ChunkDictionary | None, str]:
    """As the server trains: scrubbed samples, keeping the strings that at
    least 5 visitors saw (here each page view is a visitor of its own)."""
    common = common_strings([(str(i), page) for i, page in enumerate(pages)])
    samples: list[bytes] = []
    for page in pages:
        for chunk in chunks_of(page):
            samples.extend(samples_of(chunk, common))
    total = 0
    kept = []
    for sample in reversed(samples):  # the newest, as the server samples
        if total >= MAX_SAMPLE_BYTES:
            break
        kept.append(sample)
        total += len(sample)
    ms = 0.0
    data = None

    def run() -> None:
        nonlocal data
        data = train(kept)

    ms = cpu_ms(run)
    if data is None:
        return None, f"no dictionary: {len(kept)} samples, {total} bytes are too few to train one"
    return (
        ChunkDictionary(1, data),
        f"16 KB dictionary from {len(kept)} samples ({total / 1e6:.2f} MB), "
        f"trained in {ms:.0f} ms CPU",
    )


def measure(
    corpus: str, pages: list[Events], train_share: float
) -> tuple[Measured, ChunkDictionary | None, list[Events]]:
    split = int(len(pages) * train_share)
    training, measured = pages[:split], pages[split:]
    dictionary, note = (
        train_on(training)
        if training
        else (None, "nothing to train on: the server trains after 20 chunks and 1 MiB of a site")
    )
    if dictionary is None:
        measured = pages  # nothing was trained on: measure everything
    chunks = [c for page in measured for c in chunks_of(page)]
    return (
        Measured(
            corpus=corpus,
            pages=len(measured),
            chunks=len(chunks),
            json_bytes=sum(len(json.dumps(p).encode()) for p in measured),
            gzip_bytes=sum(len(gzip.compress(json.dumps(p).encode(), 6)) for p in measured),
            v1_bytes=sum(len(encode_chunk_v1(c)[0]) for c in chunks),
            v2_bytes=sum(len(encode_chunk(c, dictionary)[0]) for c in chunks)
            if dictionary
            else None,
            dictionary_note=note,
        ),
        dictionary,
        chunks,
    )


def levels(dictionary: ChunkDictionary, chunks: list[Events]) -> list[str]:
    raw = sum(len(pack(c)) for c in chunks) / 1e6
    lines = []
    saved = chunk_format.ZSTD_DICTIONARY_LEVEL
    try:
        for level in LEVELS:
            chunk_format.ZSTD_DICTIONARY_LEVEL = level
            chunk_format._local.__dict__.clear()  # new compressors at this level
            # The dictionary's tables are prepared once per process: not timed.
            encode_chunk(chunks[0], dictionary)
            stored: list[bytes] = []
            ms_c = cpu_ms(lambda: stored.extend(encode_chunk(c, dictionary)[0] for c in chunks))  # noqa: B023
            ms_d = cpu_ms(lambda: [decode_chunk(b, dictionary) for b in stored])  # noqa: B023
            blobs = stored
            lines.append(
                f"  level {level:>2}: {sum(map(len, blobs)):>10,} bytes  "
                f"pack+compress {ms_c / raw:6.1f} ms/MB  decode+unpack {ms_d / raw:6.1f} ms/MB"
            )
    finally:
        chunk_format.ZSTD_DICTIONARY_LEVEL = saved
        chunk_format._local.__dict__.clear()
    return lines


def show(m: Measured) -> None:
    print(f"\n== {m.corpus}: {m.pages} page views measured, {m.chunks} chunks,")
    print(f"   {m.json_bytes / 1e6:.2f} MB JSON")
    print(f"   {m.dictionary_note}")
    print(f"   gzip -6 JSON        {m.gzip_bytes:>10,} bytes  1.00x")
    print(f"   v1 zstd-3           {m.v1_bytes:>10,} bytes  {m.v1_bytes / m.gzip_bytes:.2f}x gzip")
    if m.v2_bytes is not None:
        level = chunk_format.ZSTD_DICTIONARY_LEVEL
        print(
            f"   v2 dict, level {level:<2}   {m.v2_bytes:>10,} bytes  "
            f"{m.v2_bytes / m.gzip_bytes:.2f}x gzip  ({m.v2_bytes / m.v1_bytes:.2f}x v1)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=80, help="page views to record in Chromium")
    parser.add_argument("--seconds", type=float, default=12.0, help="seconds each is recorded")
    parser.add_argument("--generated", type=int, default=120, help="generated sessions")
    parser.add_argument("--train-share", type=float, default=0.5)
    parser.add_argument(
        "--pages-cache", type=Path, default=Path("/tmp/replay-storage-pages-v2.json")
    )
    args = parser.parse_args()
    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, zstandard {zstandard.__version__}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    corpora = {
        "fixtures (tests/fixtures, real Chromium recordings)": fixture_pages(),
        "chromium (12 pages of one shop site, 80 views, @rrweb/record)": cached_pages(
            args.pages_cache, args.pages, args.seconds
        ),
        "generated (one shop site, every page view new content: worst case)": [
            p for s in site_sessions(41, args.generated) for p in s
        ],
    }
    for name, pages in corpora.items():
        measured, dictionary, chunks = measure(name, pages, args.train_share)
        show(measured)
        if dictionary is not None:
            print("   with the dictionary, per zstd level (the measured part):")
            for line in levels(dictionary, chunks):
                print(line)


if __name__ == "__main__":
    main()
