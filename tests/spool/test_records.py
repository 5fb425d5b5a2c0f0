"""The spool's entry format: a batch's header and either its events or the
frame it arrived in; both read back as the same entry."""

from __future__ import annotations

import msgpack
import pytest

from replay_server.spool.records import (
    RawEntry,
    SpoolEntry,
    decode_spool_payload,
    encode_spool_payload,
    encode_spool_payload_of_packed,
    spool_header,
)
from tests.rrweb_events import mouse_move, page_events

SID = "2d7f4a4e-3f0b-4f4a-8a43-0c4e1e0f2a77"
ENTRY = SpoolEntry(site_id=3, sid=SID, seq=41, page=2, events=page_events(5_000))


def test_an_events_entry_reads_back_as_it_was() -> None:
    assert decode_spool_payload(encode_spool_payload(ENTRY)) == ENTRY


def test_a_frame_entry_reads_back_as_the_frames_events() -> None:
    frame = msgpack.packb({"t": "batch", "seq": 41, "page": 2, "events": ENTRY.events})
    payload = encode_spool_payload(ENTRY, frame)
    assert frame in payload  # kept as received, not re-encoded
    assert decode_spool_payload(payload) == ENTRY


def test_packed_events_are_appended_as_the_same_entry() -> None:
    packed_events = msgpack.packb(ENTRY.events, use_bin_type=True)
    payload = encode_spool_payload_of_packed(3, SID, 41, 2, packed_events)
    assert payload == encode_spool_payload(ENTRY)
    assert decode_spool_payload(payload) == ENTRY


def test_the_header_is_read_without_the_events() -> None:
    assert spool_header(encode_spool_payload(ENTRY)) == (3, SID, 41, 2)


@pytest.mark.parametrize(
    "header",
    [
        {"site": "3", "sid": SID, "seq": 1, "page": 0},
        {"site": 3, "sid": 5, "seq": 1, "page": 0},
        {"site": 3, "sid": SID, "seq": True, "page": 0},
        {"site": 3, "sid": SID, "seq": 1, "page": 0.0},
    ],
)
def test_a_header_of_the_wrong_types_is_refused(header: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        spool_header(msgpack.packb({**header, "ev": [mouse_move(1)]}))


def test_raw_entry_of_an_entry_carries_its_header_and_bytes() -> None:
    raw = RawEntry.of(ENTRY)
    assert (raw.site_id, raw.sid, raw.seq, raw.page) == (3, SID, 41, 2)
    assert decode_spool_payload(raw.payload) == ENTRY
    assert (raw.first_ts, raw.last_ts) == (0, 0)
