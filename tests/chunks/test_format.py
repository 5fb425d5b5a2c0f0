from __future__ import annotations

import gzip
import re

import msgpack
import pytest

from replay_server.chunks.cut import build_chunks
from replay_server.chunks.format import (
    FORMAT_VERSION,
    MAGIC,
    chunk_dictionary_id,
    decode_chunk,
    encode_chunk,
    encode_chunk_v1,
)
from replay_server.errors import CorruptChunk
from replay_server.spool.records import SpoolEntry, decode_spool_payload, encode_spool_payload
from tests.rrweb_events import mouse_move, now_ms, page_events


def test_round_trip_and_compression() -> None:
    events = page_events(now_ms(), items=200)
    data, raw = encode_chunk(events)
    assert data[:4] == MAGIC and data[4] == FORMAT_VERSION
    assert len(data) < raw / 3
    assert decode_chunk(data) == events


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"RSCK",
        b"XXXX\x01abc",
        MAGIC + b"\x02" + b"zz",
        MAGIC + b"\x03" + bytes(4) + b"zz",
        MAGIC + b"\x01" + b"not zstd",
        MAGIC + b"\x02" + bytes(4) + b"not zstd",
    ],
)
def test_corrupt_or_unknown_chunks_fail_loudly(data: bytes) -> None:
    with pytest.raises(CorruptChunk):
        decode_chunk(data)


def test_build_chunks_one_per_page_in_timestamp_order() -> None:
    t = now_ms()
    batches = [
        SpoolEntry(1, "s", 0, 0, page_events(t, items=1)),
        SpoolEntry(1, "s", 1, 1, page_events(t + 5000, items=1)),
        SpoolEntry(1, "s", 2, 0, [mouse_move(t + 10)]),  # a late batch of page 0
    ]
    chunks = build_chunks(batches)
    assert [c.page for c in chunks] == [0, 1]
    page0 = decode_chunk(chunks[0].data)
    assert [e["timestamp"] for e in page0] == sorted(e["timestamp"] for e in page0)
    assert chunks[0].first_seq == 0 and chunks[0].last_seq == 2
    assert chunks[0].event_count == 4 and chunks[0].has_full_snapshot
    assert re.fullmatch(r"s/1/s/000000000000-p0-[0-9a-f]{8}\.rsc", chunks[0].blob_key)
    assert build_chunks(batches)[0].blob_key != chunks[0].blob_key  # unique per write


def test_build_chunks_splits_a_page_where_the_cut_misses_seqs() -> None:
    """A chunk's [first_seq, last_seq] must hold every batch of its page in that
    range: deduplication across nodes relies on it."""
    t = now_ms()
    batches = [
        SpoolEntry(1, "s", 5, 0, [mouse_move(t + 5)]),
        SpoolEntry(1, "s", 6, 0, [mouse_move(t + 6)]),
        SpoolEntry(1, "s", 9, 0, [mouse_move(t + 9)]),  # 7 and 8 went to another node
        SpoolEntry(1, "s", 10, 1, page_events(t + 10, items=0)),
        SpoolEntry(1, "s", 11, 1, [mouse_move(t + 11)]),
    ]
    chunks = build_chunks(batches)
    assert [(c.page, c.first_seq, c.last_seq, c.event_count) for c in chunks] == [
        (0, 5, 6, 2),
        (0, 9, 9, 1),
        (1, 10, 11, 3),
    ]


@pytest.mark.parametrize("form", ["events", "frame", "gzip frame"])
def test_spool_records_keep_the_events_whatever_their_form(form: str) -> None:
    events = page_events(now_ms(), items=5)
    batch = SpoolEntry(7, "s" * 36, 3, 1, events)
    frame = {
        "events": None,
        "frame": msgpack.packb({"t": "batch", "seq": 3, "page": 1, "events": events}),
        "gzip frame": msgpack.packb(
            {"t": "batch", "seq": 3, "page": 1, "gz": gzip.compress(msgpack.packb(events))}
        ),
    }[form]
    assert decode_spool_payload(encode_spool_payload(batch, frame)) == batch


def test_spool_records_of_earlier_versions_still_decode() -> None:
    events = [mouse_move(now_ms())]
    old = msgpack.packb({"site": 7, "sid": "s" * 36, "seq": 3, "page": 0, "ev": events})
    assert decode_spool_payload(old) == SpoolEntry(7, "s" * 36, 3, 0, events)


def test_version_1_chunks_still_decode() -> None:
    events = page_events(now_ms(), items=20)
    data, _ = encode_chunk_v1(events)
    assert data[4] == 1
    assert chunk_dictionary_id(data) == 0
    assert decode_chunk(data) == events
