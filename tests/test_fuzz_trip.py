"""Fuzzing the whole trip of a batch (tests/trip.py) with hypothesis.

Invariant: every input either gets a domain error at the edge or makes the
whole trip (spool record, chunk, every read-path encoder) and reads back as
it was accepted. The corpus holds the inputs that broke a node before
(issue 13); the generated inputs mix valid rrweb events with hostile values
(binary, NaN, 64-bit edges, lone surrogates, nesting around every codec's
limit) and random byte damage.

CI runs a bounded number of examples; `REPLAY_FUZZ_EXAMPLES=100000` runs a
long local session (`.venv/bin/pytest tests/test_fuzz_trip.py`).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tracemalloc
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from replay_server.bounds import MAX_NESTING
from tests.rrweb_events import deep_page_events, mouse_move, now_ms, page_events
from tests.trip import Trip, batch_frame

EXAMPLES = int(os.environ.get("REPLAY_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def custom(ts: int, payload: Any) -> dict[str, Any]:
    return {"type": 5, "timestamp": ts, "data": {"tag": "t", "payload": payload}}


def hello_json(**changes: Any) -> dict[str, Any]:
    hello = {
        "site": "pk_" + "a" * 24,
        "sid": "6f1c2a52-8f0e-4d0e-9f53-1b7f5c8c2d11",
        "vid": "0b4f1f9e-3f5d-4a8e-8f3c-2d1e0c9b8a71",
        "page": 0,
        "url": "https://shop.test/",
        "clock": now_ms(),
    }
    return {**hello, **changes}


def inflation_frame(maps: int) -> bytes:
    """A small frame whose gz field inflates to `maps` empty maps."""
    header = b"\xdd" + maps.to_bytes(4, "big")  # array 32
    return msgpack.packb(
        {"t": "batch", "seq": 0, "page": 0, "gz": gzip.compress(header + b"\x80" * maps)},
        use_bin_type=True,
    )


# -- the corpus: inputs that broke a node before ---------------------------------

ACCEPTED = {
    "a page 130 elements deep": lambda t: deep_page_events(t, 130),
    "a page 240 elements deep": lambda t: deep_page_events(t, 240),
    "custom data nested to the limit": lambda t: [custom(t, nested(MAX_NESTING - 4))],
    "64-bit integer edges": lambda t: [custom(t, [2**64 - 1, -(2**63), 2**53 + 1])],
    "unicode and empty strings": lambda t: [custom(t, ["", "é", "😀", "\u2028"])],
}

REFUSED = {
    "a page 600 elements deep (past every decoder)": lambda t: deep_page_events(t, 600),
    "a page 1,000 elements deep": lambda t: deep_page_events(t, 1000),
    "custom data nested past the limit": lambda t: [custom(t, nested(MAX_NESTING))],
    "NaN in data": lambda t: [custom(t, math.nan)],
    "infinity in data": lambda t: [custom(t, [math.inf])],
    "binary in data": lambda t: [custom(t, b"\x00\xff")],
    "NaN timestamp": lambda t: [{"type": 5, "timestamp": math.nan, "data": {"tag": "t"}}],
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_corpus_accepted_inputs_make_the_whole_trip(name: str) -> None:
    events = ACCEPTED[name](now_ms())
    served = Trip.new().ride(batch_frame(0, events))
    assert served == sorted(events, key=lambda e: e["timestamp"])


@pytest.mark.parametrize("name", REFUSED)
def test_corpus_refused_inputs_get_a_domain_error_at_the_edge(name: str) -> None:
    assert Trip.new().ride(batch_frame(0, REFUSED[name](now_ms()))) is None


@pytest.mark.parametrize("depth", [246, 300, 480])
def test_a_page_deeper_than_the_limit_is_pruned_not_refused(depth: int) -> None:
    events = deep_page_events(now_ms(), depth)
    served = Trip.new().ride(batch_frame(0, events))
    assert served is not None
    node = served[1]["data"]["node"]["childNodes"][1]["childNodes"][0]  # <body>
    levels = 2
    while node["childNodes"]:
        node, levels = node["childNodes"][0], levels + 1
    assert levels == 245  # REPLAY_MAX_TREE_DEPTH
    assert node["attributes"] == {"class": f"level-{levels - 2}", "data-rs-pruned": "1"}


def test_an_inflation_frame_is_refused_without_building_it() -> None:
    frame = inflation_frame(4_000_000)
    assert len(frame) < 20_000
    tracemalloc.start()
    try:
        assert Trip.new().ride(frame) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 4 million decoded maps would take ~300 MB; decoding stops at the budget.
    assert peak < 80 * 1024 * 1024


def test_a_json_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = gzip.compress(b'{"hello":{},"batches":[' + b"{}," * 3_000_000 + b"{}]}")
    assert len(bomb) < 40_000
    tracemalloc.start()
    try:
        assert Trip.new().ride_http(bomb, "text/plain") is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        json.dumps(
            {
                "hello": hello_json(),
                "batches": [{"seq": 0, "page": 0, "events": [custom(now_ms(), nested(900))]}],
            }
        ).encode(),
        json.dumps({"hello": hello_json(clock=2**70), "batches": []}).encode(),
        b'{"hello": {"page": NaN}}',
        b'{"hello": {"page": 1e999}}',
    ],
    ids=["deep brackets", "deep batch", "huge clock", "NaN", "overflowing float"],
)
def test_hostile_json_bodies_get_a_domain_error(body: bytes) -> None:
    assert not Trip.new().ride_http(body, "text/plain")  # refused whole, or its batch


def test_lone_surrogates_in_a_json_body_are_cleaned_and_stored() -> None:
    t = now_ms()
    events = [custom(t, "a\ud800b"), {**custom(t + 1, "x"), "\udfff": 1}]
    text = json.dumps(
        {
            "hello": hello_json(title="\ud800", url="https://shop.test/\udc00"),
            "batches": [{"seq": 0, "page": 0, "events": events}],
        }
    )
    served = Trip.new().ride_http(text.encode(), "text/plain")
    assert served is not None and len(served) == 1
    assert served[0][0]["data"]["payload"] == "a\ufffdb"
    assert "\ufffd" in served[0][1]


def test_integers_past_64_bits_in_json_events_are_refused() -> None:
    events = [custom(now_ms(), 2**64)]
    body = json.dumps({"hello": hello_json(), "batches": [{"seq": 0, "page": 0, "events": events}]})
    assert Trip.new().ride_http(body.encode(), "text/plain") == []


# -- generated inputs -------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@st.composite
def deep_values(draw: st.DrawFn) -> Any:
    depth = draw(st.sampled_from([250, 254, 255, 256, 490, 495, 496, 497, 498, 499, 500, 600]))
    return nested(depth, draw(SCALARS))


@st.composite
def event_lists(draw: st.DrawFn) -> list[Any]:
    t = now_ms()
    templates = [
        lambda: page_events(t, items=draw(st.integers(0, 3))),
        lambda: deep_page_events(t, draw(st.integers(1, 320))),
        lambda: [mouse_move(t + draw(st.integers(0, 1000)))],
        lambda: [custom(t, draw(st.one_of(VALUES, deep_values())))],
        lambda: [
            {
                "type": draw(st.integers(0, 8)),
                "timestamp": draw(st.one_of(st.just(t), SCALARS)),
                "data": draw(VALUES),
            }
        ],
    ]
    events: list[Any] = []
    for _ in range(draw(st.integers(1, 4))):
        events.extend(draw(st.sampled_from(templates))())
    return events


@FUZZ
@given(events=event_lists(), seq=st.integers(-2, 2**53 + 1), gz=st.booleans())
def test_fuzz_batch_frames(events: list[Any], seq: int, gz: bool) -> None:
    if gz:
        inner = msgpack.packb(events, use_bin_type=True)
        frame = msgpack.packb(
            {"t": "batch", "seq": seq, "page": 0, "gz": gzip.compress(inner)}, use_bin_type=True
        )
    else:
        frame = batch_frame(seq, events)
    served = Trip.new().ride(frame)
    event("refused at the edge" if served is None else "made the whole trip")
    if served is not None:
        assert len(served) == len(events)


@FUZZ
@given(events=event_lists(), data=st.data())
def test_fuzz_damaged_frames(events: list[Any], data: st.DataObject) -> None:
    frame = bytearray(batch_frame(1, events))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(frame) - 1))
        frame[at] = data.draw(st.integers(0, 255))
    served = Trip.new().ride(bytes(frame))
    event("refused at the edge" if served is None else "made the whole trip")


@FUZZ
@given(events=event_lists(), title=st.text(max_size=10), gz=st.booleans())
def test_fuzz_json_bodies(events: list[Any], title: str, gz: bool) -> None:
    jsonable = json.loads(json.dumps(events, default=lambda b: b.hex()))
    body = json.dumps(
        {"hello": hello_json(title=title), "batches": [{"seq": 0, "page": 0, "events": jsonable}]}
    ).encode()
    served = Trip.new().ride_http(gzip.compress(body) if gz else body, "text/plain")
    event("refused at the edge" if not served else "made the whole trip")
