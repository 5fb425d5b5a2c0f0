"""A receiving session's pending batches: their decoded bytes and since when
the oldest has waited, as batches are added and cut."""

from __future__ import annotations

from replay_server.ingest.state import SessionState
from replay_server.spool.log import SpoolRecord
from replay_server.spool.records import PendingBatch


def pending(seq: int, raw_bytes: int) -> PendingBatch:
    return PendingBatch(
        record=SpoolRecord(segment=1, offset=seq * 100, length=100),
        seq=seq,
        page=0,
        first_ts=seq,
        last_ts=seq,
        event_count=1,
        has_full_snapshot=False,
        raw_bytes=raw_bytes,
    )


def test_pending_bytes_and_age_follow_adds_and_drops() -> None:
    state = SessionState(sid="s", site_id=1, acked_seq=0)
    assert state.pending_since is None
    state.add_pending(pending(1, 10))
    since = state.pending_since
    assert since is not None
    state.add_pending(pending(2, 20))
    assert state.pending_since == since  # the oldest batch's wait, not the newest's
    assert state.pending_bytes == 30

    taken = state.drop_pending(1)
    assert [b.seq for b in taken] == [1]
    assert [b.seq for b in state.pending] == [2]
    assert state.pending_bytes == 20
    assert state.pending_since is not None and state.pending_since >= since

    assert [b.seq for b in state.drop_pending(5)] == [2]
    assert (state.pending, state.pending_bytes, state.pending_since) == ([], 0, None)


def test_chunk_age_jitter_stays_within_its_range() -> None:
    jitters = {SessionState(sid=str(i), site_id=1, acked_seq=0).age_jitter for i in range(200)}
    assert all(0.75 <= j <= 1.0 for j in jitters)
    assert len(jitters) > 1
