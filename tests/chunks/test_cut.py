"""Cutting spooled batches into chunks: one chunk per page per run of seqs with
no gap, events in timestamp order, keys under the session's prefix."""

from __future__ import annotations

from typing import Any

from replay_server.chunks.cut import blob_key, build_chunks, quarantine_key, quarantined_chunk
from replay_server.chunks.format import FORMAT_VERSION, QUARANTINED, decode_chunk
from replay_server.spool.records import SpoolEntry
from tests.rrweb_events import mouse_move, page_events

SID = "0b6c5b5e-4a51-4c1f-9a89-6f0f3c7f2f10"


def entry(seq: int, page: int, events: list[dict[str, Any]]) -> SpoolEntry:
    return SpoolEntry(site_id=7, sid=SID, seq=seq, page=page, events=events)


def test_one_chunk_per_page_in_order_of_first_appearance() -> None:
    batches = [
        entry(1, 0, [mouse_move(100)]),
        entry(2, 1, [mouse_move(200)]),
        entry(3, 0, [mouse_move(300)]),
        entry(4, 1, [mouse_move(400)]),
    ]
    chunks = build_chunks(batches)
    # Seqs 1..4 are all in this cut, so page 0's 1 and 3 are one run (2 is page 1's).
    assert [(c.page, c.first_seq, c.last_seq, c.event_count) for c in chunks] == [
        (0, 1, 3, 2),
        (1, 2, 4, 2),
    ]


def test_a_gap_in_the_cut_splits_a_page_into_two_chunks() -> None:
    chunks = build_chunks([entry(1, 0, [mouse_move(1)]), entry(3, 0, [mouse_move(3)])])
    assert [(c.first_seq, c.last_seq) for c in chunks] == [(1, 1), (3, 3)]


def test_events_sorted_by_timestamp_and_the_span_recorded() -> None:
    late, early = mouse_move(2_000, x=1), mouse_move(1_000, x=2)
    (chunk,) = build_chunks([entry(5, 0, [late]), entry(6, 0, [early])])
    assert decode_chunk(chunk.data) == [early, late]
    assert (chunk.first_ts, chunk.last_ts) == (1_000, 2_000)
    assert chunk.format_version == FORMAT_VERSION
    assert chunk.raw_bytes > 0
    assert chunk.has_full_snapshot is False


def test_a_full_snapshot_is_noted() -> None:
    (chunk,) = build_chunks([entry(1, 0, page_events(10_000))])
    assert chunk.has_full_snapshot is True
    assert chunk.event_count == len(page_events(10_000))


def test_keys_sit_under_the_session_prefix_and_are_unique_per_write() -> None:
    first, second = blob_key(7, SID, 12, 3), blob_key(7, SID, 12, 3)
    assert first.startswith(f"s/7/{SID}/000000000012-p3-") and first.endswith(".rsc")
    assert first != second
    assert quarantine_key(7, SID, 12, 3).startswith(f"s/7/{SID}/000000000012-p3-")
    assert quarantine_key(7, SID, 12, 3).endswith(".quarantined")


def test_a_quarantined_batch_keeps_its_payload_and_holds_no_events() -> None:
    chunk = quarantined_chunk(7, SID, 9, 2, b"raw spool entry", 100, 200)
    assert chunk.format_version == QUARANTINED
    assert chunk.data == b"raw spool entry"
    assert (chunk.first_seq, chunk.last_seq, chunk.page) == (9, 9, 2)
    assert (chunk.event_count, chunk.first_ts, chunk.last_ts) == (0, 100, 200)
