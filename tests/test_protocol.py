from __future__ import annotations

import contextlib
import gzip
import uuid
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay_server.errors import InvalidMessage, ReplayError, TooLarge
from replay_server.protocol import (
    Batch,
    Bye,
    Hello,
    Limits,
    decode_http_body,
    parse_message,
    unpack_frame,
)
from tests.rrweb_events import now_ms, page_events

LIMITS = Limits(max_frame_bytes=1 << 20, max_batch_bytes=1 << 20, max_events_per_batch=100)


def hello(**changes: Any) -> dict[str, Any]:
    msg = {
        "t": "hello",
        "v": 1,
        "site": "pk_" + "a" * 32,
        "sid": str(uuid.uuid4()),
        "vid": str(uuid.uuid4()),
        "page": 0,
        "url": "https://shop.test/cart",
        "referrer": "",
        "title": "Cart",
        "viewport": [1280, 720],
        "screen": [1920, 1080],
        "lang": "en",
        "tz": "UTC",
        "clock": now_ms(),
    }
    msg.update(changes)
    return msg


def decode(msg: dict[str, Any]) -> object:
    return parse_message(unpack_frame(msgpack.packb(msg), LIMITS), LIMITS)


def test_hello_round_trip() -> None:
    msg = decode(hello())
    assert isinstance(msg, Hello)
    assert msg.viewport == (1280, 720)
    assert msg.url == "https://shop.test/cart"


def test_batch_plain_and_gzip_carry_the_same_events() -> None:
    events = page_events(now_ms())
    plain = decode({"t": "batch", "seq": 3, "page": 0, "events": events})
    gz = decode({"t": "batch", "seq": 3, "page": 0, "gz": gzip.compress(msgpack.packb(events))})
    assert isinstance(plain, Batch) and isinstance(gz, Batch)
    assert plain.events == gz.events == events


def test_bye() -> None:
    assert isinstance(decode({"t": "bye"}), Bye)


@pytest.mark.parametrize(
    "msg",
    [
        {"t": "nope"},
        {"x": 1},
        hello(v=2),
        hello(site="key"),
        hello(sid="not-a-uuid"),
        hello(sid=12),
        hello(vid=None),
        hello(page=-1),
        hello(page="0"),
        hello(url="javascript:alert(1)"),
        hello(referrer="ftp://x"),
        hello(viewport=[1, 2, 3]),
        hello(clock="now"),
        {"t": "batch", "seq": -1, "page": 0, "events": []},
        {"t": "batch", "seq": True, "page": 0, "events": []},
        {"t": "batch", "seq": 1, "page": 0, "events": "x"},
        {"t": "batch", "seq": 1, "page": 0, "gz": "text"},
        {"t": "batch", "seq": 1, "page": 0, "gz": b"not gzip"},
    ],
)
def test_invalid_messages(msg: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage):
        decode(msg)


def test_frames_that_are_not_maps() -> None:
    for frame in [b"\xc1", msgpack.packb([1, 2]), b"", msgpack.packb("hello")]:
        with pytest.raises(InvalidMessage):
            unpack_frame(frame, LIMITS)


def test_too_many_events() -> None:
    with pytest.raises(TooLarge):
        decode({"t": "batch", "seq": 1, "page": 0, "events": [{}] * 101})


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\x00" * (4 << 20))
    with pytest.raises(TooLarge):
        decode({"t": "batch", "seq": 1, "page": 0, "gz": bomb})


def test_frame_over_limit() -> None:
    with pytest.raises(TooLarge):
        unpack_frame(b"\x00" * ((1 << 20) + 1), LIMITS)


def test_http_body_json_and_msgpack() -> None:
    body = {"hello": hello(), "batches": []}
    import json

    assert decode_http_body(json.dumps(body).encode(), "text/plain", LIMITS)["hello"]["page"] == 0
    assert decode_http_body(msgpack.packb(body), "application/msgpack", LIMITS)["batches"] == []
    with pytest.raises(InvalidMessage):
        decode_http_body(b"{", "application/json", LIMITS)


@given(st.binary(max_size=200))
def test_random_frames_only_raise_protocol_errors(frame: bytes) -> None:
    with contextlib.suppress(ReplayError):
        parse_message(unpack_frame(frame, LIMITS), LIMITS)


def test_hello_strings_are_cleaned_for_storage() -> None:
    # The JSON fallback decodes "\ud800" to a lone surrogate, which no database
    # can store; PostgreSQL refuses NUL. Both are cleaned, not refused.
    body = (
        b'{"hello": {"t": "hello", "v": 1, "site": "pk_' + b"a" * 32 + b'", '
        b'"sid": "' + str(uuid.uuid4()).encode() + b'", "vid": "' + str(uuid.uuid4()).encode()
        + b'", "page": 0, "url": "https://shop.test/\\ud800?q=\\u0000x", '
        b'"referrer": "https://ref.test/\\udcff", "title": "Cart \\ud83d\\ude00\\u0000\\ud800", '
        b'"lang": "en\\u0007", "tz": "UTC\\n", "clock": 1}}'
    )  # fmt: skip
    parsed = parse_message(decode_http_body(body, "text/plain", LIMITS)["hello"], LIMITS)
    assert isinstance(parsed, Hello)
    assert parsed.url == "https://shop.test/\ufffd?q=x"
    assert parsed.referrer == "https://ref.test/\ufffd"
    assert parsed.title == "Cart \U0001f600\ufffd"
    assert (parsed.lang, parsed.tz) == ("en", "UTC ")


@given(
    st.text(max_size=60),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=60),
)
def test_any_hello_string_is_storable(title: str, path: str) -> None:
    parsed = decode_message_json(hello(title=title, url="https://shop.test/" + path))
    assert isinstance(parsed, Hello)
    for value in (parsed.title, parsed.url, parsed.referrer, parsed.lang, parsed.tz):
        value.encode("utf-8")
        assert "\x00" not in value


def decode_message_json(msg: dict[str, Any]) -> object:
    import json

    # ensure_ascii escapes lone surrogates as \udXXX, as a hostile client would send them
    body = json.dumps({"hello": msg}).encode()
    return parse_message(decode_http_body(body, "text/plain", LIMITS)["hello"], LIMITS)
