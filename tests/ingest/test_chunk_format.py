from __future__ import annotations

import pytest

from replay_server.errors import CorruptChunk
from replay_server.ingest.chunk_format import FORMAT_VERSION, MAGIC, decode_chunk, encode_chunk
from replay_server.ingest.chunker import SpooledBatch, build_chunks
from tests.rrweb_events import mouse_move, now_ms, page_events


def test_round_trip_and_compression() -> None:
    events = page_events(now_ms(), items=200)
    data, raw = encode_chunk(events)
    assert data[:4] == MAGIC and data[4] == FORMAT_VERSION
    assert len(data) < raw / 3
    assert decode_chunk(data) == events


@pytest.mark.parametrize(
    "data",
    [b"", b"RSCK", b"XXXX\x01abc", MAGIC + b"\x02" + b"zz", MAGIC + b"\x01" + b"not zstd"],
)
def test_corrupt_or_unknown_chunks_fail_loudly(data: bytes) -> None:
    with pytest.raises(CorruptChunk):
        decode_chunk(data)


def test_build_chunks_one_per_page_in_timestamp_order() -> None:
    t = now_ms()
    batches = [
        SpooledBatch(1, "s", 0, 0, page_events(t, items=1)),
        SpooledBatch(1, "s", 1, 1, page_events(t + 5000, items=1)),
        SpooledBatch(1, "s", 2, 0, [mouse_move(t + 10)]),  # a late batch of page 0
    ]
    chunks = build_chunks(batches, first_idx=7)
    assert [(c.idx, c.page) for c in chunks] == [(7, 0), (8, 1)]
    page0 = decode_chunk(chunks[0].data)
    assert [e["timestamp"] for e in page0] == sorted(e["timestamp"] for e in page0)
    assert chunks[0].first_seq == 0 and chunks[0].last_seq == 2
    assert chunks[0].event_count == 4 and chunks[0].has_full_snapshot
    assert chunks[0].blob_key == "s/1/s/000007.rsc"
