"""The bounds every stage honours (replay_server/bounds.py) and gzip's."""

from __future__ import annotations

import gzip
import math
import os
from typing import Any

import msgpack
import ormsgpack
import pytest

from replay_server.bounds import (
    MAX_NESTING,
    StructureLimits,
    check_events,
    decode_bounded,
    pack,
    repair_surrogates,
)
from replay_server.errors import InvalidMessage, TooLarge
from replay_server.protocol import MAX_INFLATE_RATIO, MIN_INFLATE_BYTES, gunzip_bounded

LIMITS = StructureLimits(max_items=1000)


def nested(depth: int) -> Any:
    """`depth` arrays, one inside the other."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_items_are_counted_as_containers_plus_entries() -> None:
    assert check_events([{"a": 1, "b": [1, 2]}], LIMITS) == 2 + 3 + 3
    with pytest.raises(TooLarge) as caught:
        check_events([[0] * 600, [0] * 600], LIMITS)
    assert caught.value.code == "batch_too_large"


def test_nesting_is_bounded_where_every_codec_can_carry_it() -> None:
    deepest = [nested(MAX_NESTING - 1)]  # the events list is level 1
    check_events(deepest, StructureLimits(10_000))
    # ormsgpack stops at 254 levels; pack falls back, and both decoders read it.
    packed = pack(deepest)
    assert ormsgpack.unpackb(packed) == deepest == msgpack.unpackb(packed)
    with pytest.raises(InvalidMessage) as caught:
        check_events([nested(MAX_NESTING)], StructureLimits(10_000))
    assert caught.value.code == "too_deep"


@pytest.mark.parametrize(
    "value",
    [math.nan, -math.inf, b"\x00", 2**64, -(2**63) - 1, {1: 2}, (1, 2)],
    ids=["NaN", "infinity", "binary", "past uint64", "past int64", "int key", "tuple"],
)
def test_values_some_stage_cannot_carry_are_refused(value: Any) -> None:
    with pytest.raises(InvalidMessage):
        check_events([{"data": value}], LIMITS)


def test_decoding_stops_at_the_item_budget() -> None:
    small = msgpack.packb([{}] * 10)
    assert decode_bounded(small, 1000) == [{}] * 10
    # Over the budget in bytes, so counted as it is built: many small arrays.
    many = msgpack.packb([[0, 0]] * 2000)
    with pytest.raises(TooLarge):
        decode_bounded(many, 1000)
    one_huge = b"\xdd" + (10**6).to_bytes(4, "big") + b"\x80" * 10**6
    with pytest.raises(TooLarge):
        decode_bounded(one_huge, 1000)
    with pytest.raises(ValueError):
        decode_bounded(msgpack.packb({1: 2}) + b"\x00" * 2000, 1000)


def test_lone_surrogates_become_replacement_characters_and_pairs_join() -> None:
    value = {"k\udc00": ["a\ud800", "\ud83d\ude00", 1, {"x": "\udfff"}]}
    assert repair_surrogates(value) == {"k\ufffd": ["a\ufffd", "😀", 1, {"x": "\ufffd"}]}


def test_gzip_is_bounded_by_size_and_by_ratio_past_the_first_mib() -> None:
    data = bytes(3_000_000)  # compresses ~1,000x
    with pytest.raises(TooLarge):
        gunzip_bounded(gzip.compress(data), 16 * 1024 * 1024)
    ordinary = b"".join(os.urandom(4) + bytes(60) for _ in range(30_000))  # ~10x, 1.9 MB
    blob = gzip.compress(ordinary)
    assert len(ordinary) < MAX_INFLATE_RATIO * len(blob)
    assert gunzip_bounded(blob, 16 * 1024 * 1024) == ordinary
    small = b"\x80" * MIN_INFLATE_BYTES  # any ratio within the first MiB
    assert gunzip_bounded(gzip.compress(small), 16 * 1024 * 1024) == small
