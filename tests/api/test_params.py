"""The API's query-string parsing: integers within bounds (ASCII digits only),
ids in paths, and content negotiation between JSON and msgpack."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from aiohttp.test_utils import make_mocked_request

from replay_server.api.params import (
    MAX_DB_INT,
    MAX_ROW_ID,
    id_in_path,
    int_param,
    prefers_msgpack,
)
from replay_server.errors import InvalidMessage, NotFound


def query(value: str) -> str:
    return "/?n=" + quote(value)


@pytest.mark.parametrize(
    ("raw", "value"), [("", None), ("  ", None), ("7", 7), ("+7", 7), ("-3", -3), (" 12 ", 12)]
)
def test_integers(raw: str, value: int | None) -> None:
    assert int_param(make_mocked_request("GET", query(raw)), "n") == value


@pytest.mark.parametrize("raw", ["1_000", "1.5", "0x10", "\u0661\u0662", "7a", "--1", "1e3"])
def test_not_integers(raw: str) -> None:
    with pytest.raises(InvalidMessage, match="n must be an integer") as caught:
        int_param(make_mocked_request("GET", query(raw)), "n")
    assert caught.value.code == "invalid_parameter"


def test_bounds() -> None:
    def parse(raw: str, **bounds: int) -> int | None:
        return int_param(make_mocked_request("GET", query(raw)), "n", **bounds)

    assert parse("5", minimum=1, maximum=5) == 5
    assert parse(str(MAX_DB_INT)) == MAX_DB_INT
    for raw, bounds in [
        ("0", {"minimum": 1}),
        ("6", {"maximum": 5}),
        (str(MAX_DB_INT + 1), {}),
        ("9" * 5000, {}),  # more digits than int() takes: refused before it
    ]:
        with pytest.raises(InvalidMessage, match="n must be between"):
            parse(raw, **bounds)


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("0042", 42), (str(MAX_ROW_ID), MAX_ROW_ID)])
def test_ids_in_paths(raw: str, value: int) -> None:
    request = make_mocked_request("GET", f"/sites/{raw}", match_info={"site_id": raw})
    assert id_in_path(request, "site_id") == value


@pytest.mark.parametrize("raw", ["-1", "1.0", "abc", "\u0661", str(MAX_ROW_ID + 1), "1" * 11])
def test_anything_else_in_a_path_is_not_found(raw: str) -> None:
    request = make_mocked_request("GET", "/sites/x", match_info={"site_id": raw})
    with pytest.raises(NotFound, match="site not found"):
        id_in_path(request, "site_id")


@pytest.mark.parametrize(
    ("accept", "msgpack"),
    [
        ("", False),
        ("application/json", False),
        ("application/msgpack", True),
        ("application/x-msgpack", True),
        ("application/json, application/msgpack", True),  # a tie goes to msgpack
        ("application/json;q=1, application/msgpack;q=0.5", False),
        ("application/json;q=0.5, APPLICATION/MSGPACK", True),
        ("application/msgpack;q=0", False),
        ("application/msgpack;q=oops", False),
        ("*/*", False),
    ],
)
def test_content_negotiation(accept: str, msgpack: bool) -> None:
    assert prefers_msgpack(accept) is msgpack
