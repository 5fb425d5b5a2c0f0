"""Chunk format v2 with site dictionaries, and training them (chunks/dictionaries.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from replay_server.bounds import pack
from replay_server.chunks.dictionaries import (
    MIN_CHUNKS,
    MIN_RAW_BYTES,
    MIN_VISITORS_PER_STRING,
    RATIO_WINDOW,
    RETRAIN_AFTER_CHUNKS,
    SAMPLE_PIECE_BYTES,
    SiteVolume,
    common_strings,
    decide,
    samples_of,
    scrubbed,
    train,
    train_from_chunks,
)
from replay_server.chunks.format import (
    FORMAT_VERSION,
    ChunkDictionary,
    chunk_dictionary_id,
    decode_chunk,
    encode_chunk,
    encode_chunk_v1,
)
from replay_server.errors import CorruptChunk
from tests.chunks.site_pages import site_sessions

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_session.json.gz"


def pages(seed: int, sessions: int) -> list[list[dict[str, Any]]]:
    return [page for session in site_sessions(seed, sessions) for page in session]


@pytest.fixture(scope="module")
def dictionary() -> ChunkDictionary:
    samples = [s for page in pages(1, 20) for s in samples_of(page)]
    data = train(samples)
    assert data is not None
    return ChunkDictionary(7, data)


def test_v2_round_trip_names_its_dictionary(dictionary: ChunkDictionary) -> None:
    events = pages(2, 1)[0]
    data, raw = encode_chunk(events, dictionary)
    assert data[4] == FORMAT_VERSION and chunk_dictionary_id(data) == 7
    assert decode_chunk(data, dictionary) == events
    assert raw == len(pack(events))
    plain, _ = encode_chunk(events)
    assert chunk_dictionary_id(plain) == 0 and decode_chunk(plain) == events


def test_a_dictionary_makes_other_pages_of_the_site_smaller(dictionary: ChunkDictionary) -> None:
    unseen = pages(3, 10)  # sessions the dictionary was not trained on
    with_dictionary = sum(len(encode_chunk(p, dictionary)[0]) for p in unseen)
    without = sum(len(encode_chunk_v1(p)[0]) for p in unseen)
    assert with_dictionary < 0.8 * without


def test_a_missing_or_other_dictionary_fails_loudly(dictionary: ChunkDictionary) -> None:
    data, _ = encode_chunk(pages(2, 1)[0], dictionary)
    with pytest.raises(CorruptChunk, match="dictionary 7"):
        decode_chunk(data)
    with pytest.raises(CorruptChunk, match="dictionary 7"):
        decode_chunk(data, ChunkDictionary(8, dictionary.data))
    with pytest.raises(CorruptChunk):  # right id, wrong bytes: zstd refuses the frame
        other = train([s for p in pages(9, 20) for s in samples_of(p)])
        assert other is not None
        decode_chunk(data, ChunkDictionary(7, other))


def test_codecs_are_cached_by_id_and_bytes(dictionary: ChunkDictionary) -> None:
    """An id can come back with other bytes (a deleted site's dictionary): a
    compressor cached by id alone would write chunks the new one cannot read."""
    other_data = train([s for p in pages(5, 20) for s in samples_of(p)])
    assert other_data is not None and other_data != dictionary.data
    events = pages(6, 1)[0]
    first, _ = encode_chunk(events, dictionary)
    again = ChunkDictionary(dictionary.id, other_data)
    second, _ = encode_chunk(events, again)
    assert decode_chunk(first, dictionary) == events
    assert decode_chunk(second, again) == events


def test_samples_are_smallish_pieces_of_the_events_msgpack() -> None:
    events = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    samples = samples_of(events)
    assert len(samples) > 1
    assert all(0 < len(s) <= SAMPLE_PIECE_BYTES for s in samples)
    assert b"".join(samples) == b"".join(pack(scrubbed(e)) for e in events)


def test_too_few_samples_train_nothing() -> None:
    events = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    assert train(samples_of(events)) is None  # one small recording


def test_training_from_stored_chunks_reads_each_with_its_dictionary(
    dictionary: ChunkDictionary,
) -> None:
    recordings = pages(4, 20)
    blobs = [
        (f"visitor-{i}", encode_chunk(p, dictionary if i % 2 else None)[0])
        for i, p in enumerate(recordings)
    ]
    blobs.append(("visitor-x", b"RSCK\x09 garbage"))  # skipped, not fatal
    trained = train_from_chunks(blobs, [dictionary])
    assert trained is not None
    common = common_strings([(f"visitor-{i}", p) for i, p in enumerate(recordings)])
    assert trained.sample_bytes == sum(len(s) for p in recordings for s in samples_of(p, common))
    # Without the dictionary half the chunks cannot be read: fewer samples.
    fewer = train_from_chunks(blobs, [])
    assert fewer is not None and fewer.sample_count < trained.sample_count


@pytest.mark.parametrize(
    ("volume", "due"),
    [
        (SiteVolume(MIN_CHUNKS - 1, 10 * MIN_RAW_BYTES, False, 0), False),
        (SiteVolume(10 * MIN_CHUNKS, MIN_RAW_BYTES - 1, False, 0), False),
        (SiteVolume(MIN_CHUNKS, MIN_RAW_BYTES, False, 0), True),
        (SiteVolume(0, 0, True, RETRAIN_AFTER_CHUNKS - 1), False),
        (SiteVolume(0, 0, True, RETRAIN_AFTER_CHUNKS), True),
        (SiteVolume(0, 0, True, 2 * RATIO_WINDOW, 0.10, 0.14), True),
        (SiteVolume(0, 0, True, 2 * RATIO_WINDOW, 0.10, 0.12), False),
        (SiteVolume(0, 0, True, 2 * RATIO_WINDOW - 1, 0.10, 0.50), False),
        (SiteVolume(0, 0, True, 2 * RATIO_WINDOW, 0.0, 0.50), False),
    ],
)
def test_training_thresholds(volume: SiteVolume, due: bool) -> None:
    assert decide(volume) is due


def personal_events(secret: str, i: int) -> list[dict[str, Any]]:
    """What a visitor's own page could show of them, in every place a string goes."""
    console = {"level": "log", "payload": [f'"{secret}"'], "name": secret}
    return [
        {"type": 3, "timestamp": 1, "data": {"source": 0, "removes": [], "texts": [
            {"id": 5, "value": f"Welcome back, {secret}"}], "attributes": [
            {"id": 6, "attributes": {"alt": secret, "class": "hello-card"}}], "adds": [
            {"parentId": 4, "nextId": None, "node": {"type": 2, "tagName": "span",
             "attributes": {"title": secret, "href": f"/users/{secret}"}, "childNodes": [],
             "id": 9000 + i}},
            {"parentId": 9000 + i, "nextId": None,
             "node": {"type": 3, "textContent": f"Hi {secret}", "id": 9500 + i}}]}},
        {"type": 6, "timestamp": 2, "data": {"plugin": "rrweb/console@1", "payload": console}},
        {"type": 4, "timestamp": 3, "data": {"href": f"https://a.example/{secret}"}},
    ]  # fmt: skip


def test_what_could_name_a_visitor_never_reaches_a_dictionary() -> None:
    """A dictionary outlives the sessions it was trained on (retention and
    erasure delete sessions): text, attribute values, URLs and plugin data that
    fewer than MIN_VISITORS_PER_STRING visitors saw are scrubbed from its
    samples, however often one visitor saw them; the site's own text, tags,
    classes and CSS are kept."""
    secret = "Jane-Quokka-Doe-4417"
    recordings = pages(8, 40)
    blobs = []
    for i, page in enumerate(recordings):
        # Jane's many page views, and a few other visitors: one fewer than needed.
        visitor = "jane" if i < 20 else f"visitor-{i}"
        if i < 20 + MIN_VISITORS_PER_STRING - 2:
            page.extend(personal_events(secret, i))
        blobs.append((visitor, encode_chunk(page)[0]))
    trained = train_from_chunks(blobs, [])
    assert trained is not None
    assert secret.encode() not in trained.data and b"Quokka" not in trained.data
    assert b"Shop Example" in trained.data  # the footer every visitor saw
    assert b"site-header" in trained.data  # classes


def test_strings_common_to_enough_visitors() -> None:
    events = {v: [{"type": 3, "data": {"text": f"only {v}", "shared": "all"}}] for v in "abcdef"}
    common = common_strings([(v, e) for v, e in events.items()])
    assert common == {"all"}
    assert scrubbed(events["a"][0], common) == {"type": 3, "data": {"text": "", "shared": "all"}}
