"""Hostile query parameters against a real server: every parameter of the
session search (API and dashboard), of a session's events and of the player
page, fuzzed with huge and negative integers, floats, lone surrogates
(percent-encoded), NULs, empty and repeated values, and cursors built from
hostile parts. Whatever comes in, the answer is a page or the documented 400
(`{"error": {"code", "message"}}` on the API, the error page on the
dashboard), never a 500. Requests are written on a raw socket, so the bytes
sent are exactly the bytes fuzzed. On SQLite and PostgreSQL (which refuses
NUL in text)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.browser import Client
from tests.conftest import BOTH_DATABASES, AddSession, Tenant

pytestmark = BOTH_DATABASES

SEARCH_PARAMS = (
    "url", "url_match", "from", "to", "min_duration", "max_duration", "browser", "os",
    "device", "country", "visitor", "referrer", "has_errors", "has_rage_clicks",
    "has_dead_clicks", "live", "sort", "limit", "cursor",
)  # fmt: skip
EVENT_PARAMS = ("page", "from_ms", "to_ms")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

NUMBERS = st.one_of(
    st.integers(-(2**200), 2**200).map(str),
    st.integers(-5, 5).map(str),
    st.sampled_from(["9" * 19, "9" * 40, "-" + "9" * 40, str(2**63), str(-(2**63) - 1)]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e400", "1.5", "-0", "+1", "1_000", " 7 ", "0x10", "\u0661", "\uff11"]),
)
DATES = st.sampled_from(
    [
        "0001-01-01", "9999-12-31", "0001-01-01T00:00+23:59", "9999-12-31T23:59-23:59",
        "2026-13-01", "2026-02-30T25:00", "2026-01-01T00:00:00.9999999Z", "1970-01-01T00:00Z",
    ]
)  # fmt: skip
WORDS = st.sampled_from(
    ["", "true", "FALSE", "newest", "longest", "most_active", "exact", "prefix", "mobile",
     "DE", "\x00", "a\x00b", "\ud800", "\udcff", "\ud83d\ude00", "\u200b", "%", "_", "/"]
)  # fmt: skip
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)


@st.composite
def cursors(draw: st.DrawFn) -> str:
    sort = draw(st.sampled_from(["newest", "newest", "longest", "", "\x00"]))
    key = draw(st.one_of(st.sampled_from(["9" * 40, "-" + "9" * 25, str(2**63)]), NUMBERS))
    session_id = draw(st.one_of(WORDS, TEXT, st.uuids().map(str)))
    raw = f"{sort}:{key}:{session_id}".encode("utf-8", "surrogatepass")
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return draw(st.sampled_from([encoded, encoded, encoded + "=", encoded[:-1], "!" + encoded]))


VALUES = st.one_of(NUMBERS, DATES, WORDS, TEXT, cursors(), st.text(max_size=3000))


def encode_value(value: str) -> str:
    # Lone surrogates go out as their (invalid) UTF-8 bytes, %ED%A0%80.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{name}={encode_value(value)}" for name, value in pairs).encode()


async def raw_get(client: Client, target: bytes, token: str) -> tuple[int, bytes, bytes]:
    """Status, headers and body of one GET written by hand."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(
            b"GET " + target + b" HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
            + token.encode() + b"\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
        )  # fmt: skip
        response = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def assert_api_answer(status: int, body: bytes) -> dict[str, Any]:
    assert status in (200, 400), (status, body[:300])
    document: dict[str, Any] = json.loads(body)
    if status == 400:
        error = document["error"]
        assert set(error) == {"code", "message"} and error["code"] == "invalid_parameter"
    return document


def assert_page_answer(status: int, head: bytes, body: bytes) -> None:
    assert status in (200, 303, 400), (status, body[:300])
    if status != 303:
        assert b"text/html" in head and b"<html" in body


def pair(names: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    """A parameter and a value, weighted towards what that parameter parses."""

    def value_for(name: str) -> st.SearchStrategy[tuple[str, str]]:
        likely = {
            "cursor": cursors(),
            "from": st.one_of(NUMBERS, DATES),
            "to": st.one_of(NUMBERS, DATES),
        }.get(name, NUMBERS)
        return st.tuples(st.just(name), st.one_of(likely, likely, VALUES))

    return st.sampled_from(names).flatmap(value_for)


pairs_of = st.lists(pair(SEARCH_PARAMS), min_size=1, max_size=4)  # names may repeat


@pytest.fixture
async def seeded(add_session: AddSession, tenant: Tenant) -> None:
    """A few sessions, so that a page can be full and a cursor followed."""
    for i in range(3):
        await add_session(tenant.site_id, [f"https://a.example/{i}"], started_ms=1000 * i)


@pytest.mark.parametrize("name", SEARCH_PARAMS)
@settings(FUZZ, max_examples=25)
@given(data=st.data())
async def test_each_session_search_parameter(
    client: Client, tenant: Tenant, seeded: None, name: str, data: st.DataObject
) -> None:
    pairs = [data.draw(pair((name,))), ("limit", "1")]
    target = f"/api/v1/sites/{tenant.site_id}/sessions?".encode() + query_string(pairs)
    status, _, body = await raw_get(client, target, tenant.token)
    assert_api_answer(status, body)


@FUZZ
@given(pairs=pairs_of)
async def test_session_search_api(
    client: Client, tenant: Tenant, seeded: None, pairs: list[tuple[str, str]]
) -> None:
    target = f"/api/v1/sites/{tenant.site_id}/sessions?".encode() + query_string(pairs)
    status, _, body = await raw_get(client, target, tenant.token)
    assert_api_answer(status, body)


@FUZZ
@given(pairs=pairs_of)
async def test_session_list_page(
    client: Client, tenant: Tenant, pairs: list[tuple[str, str]]
) -> None:
    target = f"/sites/{tenant.site_id}/sessions?".encode() + query_string(pairs)
    status, head, body = await raw_get(client, target, tenant.token)
    assert_page_answer(status, head, body)
    if status == 303:  # the form's empty fields dropped: the clean search answers too
        location = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"location:")
        )
        status, head, body = await raw_get(client, location, tenant.token)
        assert_page_answer(status, head, body)


@pytest.fixture
async def session_id(add_session: AddSession, tenant: Tenant) -> str:
    return await add_session(tenant.site_id, ["https://a.example/", "https://a.example/b"])


@FUZZ
@given(pairs=st.lists(pair(EVENT_PARAMS), min_size=1, max_size=4))
async def test_session_events(
    client: Client, tenant: Tenant, session_id: str, pairs: list[tuple[str, str]]
) -> None:
    target = f"/api/v1/sessions/{session_id}/events?".encode() + query_string(pairs)
    status, _, body = await raw_get(client, target, tenant.token)
    document = assert_api_answer(status, body)
    if status == 200:
        assert document["events"] == [] and isinstance(document["missing"], list)


@FUZZ
@given(values=st.lists(VALUES, min_size=1, max_size=3))
async def test_player_page(
    client: Client, tenant: Tenant, session_id: str, values: list[str]
) -> None:
    target = f"/sessions/{session_id}?".encode() + query_string([("t", v) for v in values])
    status, _, body = await raw_get(client, target, tenant.token)
    assert status == 200 and b"<html" in body, (status, body[:300])


# The cases of the issue, named.

CURSOR_40_DIGITS = base64.urlsafe_b64encode(f"newest:{'9' * 40}:x".encode()).decode()
CURSOR_NUL_ID = base64.urlsafe_b64encode(b"newest:1:a\x00b").decode()


@pytest.mark.parametrize("cursor", ["9" * 40, CURSOR_40_DIGITS, CURSOR_NUL_ID])
async def test_a_hostile_cursor_is_a_400(client: Client, tenant: Tenant, cursor: str) -> None:
    query = f"cursor={quote(cursor)}".encode()
    api = f"/api/v1/sites/{tenant.site_id}/sessions?".encode() + query
    status, _, body = await raw_get(client, api, tenant.token)
    assert status == 400 and json.loads(body)["error"]["message"] == "invalid cursor"
    page = f"/sites/{tenant.site_id}/sessions?".encode() + query
    status, _, body = await raw_get(client, page, tenant.token)
    assert status == 400 and b"invalid cursor" in body


@pytest.mark.parametrize(
    "query",
    ["page=" + "9" * 40, "page=2147483648", "from_ms=" + "9" * 40, "to_ms=-" + "9" * 30,
     "from_ms=" + "1" * 5000, "page=1_0", "page=%D9%A1"],
)  # fmt: skip
async def test_events_parameters_out_of_range_are_a_400(
    client: Client, tenant: Tenant, session_id: str, query: str
) -> None:
    target = f"/api/v1/sessions/{session_id}/events?{query}".encode()
    status, _, body = await raw_get(client, target, tenant.token)
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("suffix", ["", "/events", "/export", "/live"])
async def test_a_session_id_with_nul_is_not_found(
    client: Client, tenant: Tenant, suffix: str
) -> None:
    status, _, body = await raw_get(
        client, f"/api/v1/sessions/a%00b{suffix}".encode(), tenant.token
    )
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, _, body = await raw_get(client, b"/sessions/a%00b", tenant.token)
    assert status == 404


@pytest.mark.parametrize("site_id", ["2147483648", "9" * 18, "9" * 40])
async def test_a_site_id_past_the_column_is_not_found(
    client: Client, tenant: Tenant, site_id: str
) -> None:
    # 32-bit INTEGER ids: PostgreSQL refuses to compare one with a larger number
    for target in (f"/api/v1/sites/{site_id}/sessions", f"/sites/{site_id}/sessions"):
        status, _, body = await raw_get(client, target.encode(), tenant.token)
        assert status == 404, body[:200]


@FUZZ
@given(data=st.data())
async def test_other_dashboard_pages(client: Client, tenant: Tenant, data: st.DataObject) -> None:
    pages = ["/login", "/", "/account/password", "/account/tokens", "/opt-out"]
    pages += [f"/sites/{tenant.site_id}/settings", f"/orgs/{tenant.org_id}/members"]
    path = data.draw(st.sampled_from(pages))
    pairs = data.draw(st.lists(pair(("next", "done", "site")), min_size=1, max_size=3))
    target = path.encode() + b"?" + query_string(pairs)
    for token in (tenant.token, ""):  # signed in, and not (a redirect to the login page)
        status, _, body = await raw_get(client, target, token)
        assert status in (200, 302, 303, 401, 404), (status, body[:300])
