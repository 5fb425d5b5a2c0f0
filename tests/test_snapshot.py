from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay_server.errors import InvalidMessage
from replay_server.snapshot import EventLimits, validate_events
from tests.rrweb_events import mouse_move, now_ms, page_events

SKEW = 86_400_000


def check(events: object, limits: EventLimits | None = None) -> None:
    validate_events(events, now_ms=now_ms(), max_skew_ms=SKEW, limits=limits)


def test_valid_page_summary() -> None:
    start = now_ms()
    events = page_events(start, items=2)
    summary = validate_events(events, now_ms=start, max_skew_ms=SKEW)
    assert summary.event_count == 4
    assert summary.first_ts == start
    assert summary.last_ts == start + 200
    assert summary.has_full_snapshot


def test_incremental_only_batch_has_no_full_snapshot() -> None:
    summary = validate_events([mouse_move(now_ms())], now_ms=now_ms(), max_skew_ms=SKEW)
    assert not summary.has_full_snapshot


def _mutate(path: list[Any], value: Any) -> list[dict[str, Any]]:
    events = page_events(now_ms())
    target: Any = events
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return events


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ([0, "type"], 8, "unknown event type"),
        ([0, "type"], "4", "unknown event type"),
        ([0, "type"], True, "unknown event type"),
        ([0, "timestamp"], "soon", "timestamp"),
        ([0, "timestamp"], float("nan"), "timestamp"),
        ([0, "timestamp"], -5, "timestamp"),
        ([0, "data"], [], "data must be a map"),
        ([0, "data", "href"], KeyError, "href"),
        ([1, "data", "node", "type"], 2, "document node"),
        ([1, "data", "initialOffset"], KeyError, "initialOffset"),
        ([1, "data", "node", "childNodes", 1, "id"], 1, "appears twice"),
        ([1, "data", "node", "childNodes", 1, "type"], 9, "unknown node type"),
        ([1, "data", "node", "childNodes", 1, "tagName"], "", "tagName"),
        ([1, "data", "node", "childNodes", 1, "childNodes"], "x", "childNodes"),
        ([2, "data", "source"], 17, "unknown incremental source"),
        ([2, "data", "adds"], KeyError, "adds"),
        ([2, "data", "adds", 0, "parentId"], None, "parentId"),
        ([2, "data", "adds", 0, "node", "id"], "7", "integer id"),
    ],
)
def test_invalid_events_are_refused(path: list[Any], value: Any, fragment: str) -> None:
    with pytest.raises(InvalidMessage, match=fragment):
        check(_mutate(path, value))


@pytest.mark.parametrize("events", [[], {}, None, "events", [1], [[]]])
def test_non_event_lists_are_refused(events: object) -> None:
    with pytest.raises(InvalidMessage):
        check(events)


def test_timestamp_far_from_clock_is_refused() -> None:
    events = page_events(now_ms() - 2 * SKEW)
    with pytest.raises(InvalidMessage, match="too far"):
        check(events)


def test_deep_tree_is_refused_without_recursion() -> None:
    events = page_events(now_ms())
    node: dict[str, Any] = {
        "type": 2,
        "id": 10,
        "tagName": "div",
        "attributes": {},
        "childNodes": [],
    }
    root = node
    for i in range(5000):
        child = {"type": 2, "id": 11 + i, "tagName": "div", "attributes": {}, "childNodes": []}
        node["childNodes"].append(child)
        node = child
    events[1]["data"]["node"]["childNodes"][1]["childNodes"][0]["childNodes"].append(root)
    with pytest.raises(InvalidMessage, match="too deep"):
        check(events)
    check(events, EventLimits(max_tree_depth=10_000))


def test_node_count_limit() -> None:
    events = page_events(now_ms())
    with pytest.raises(InvalidMessage, match="too many nodes"):
        check(events, EventLimits(max_nodes_per_event=3))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "timestamp",
                    "data",
                    "node",
                    "id",
                    "source",
                    "childNodes",
                    "tagName",
                    "attributes",
                    "adds",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@given(json_values)
def test_validator_only_ever_raises_invalid_message(value: object) -> None:
    with contextlib.suppress(InvalidMessage):
        check(value)


@given(st.lists(json_values, min_size=1, max_size=4))
def test_arbitrary_event_lists_never_crash(events: list[object]) -> None:
    candidate = copy.deepcopy(page_events(now_ms())) + events
    with contextlib.suppress(InvalidMessage):
        check(candidate)


def test_huge_strings_are_refused() -> None:
    limits = EventLimits(max_string_length=1000)
    events = page_events(now_ms())
    events[1]["data"]["node"]["childNodes"][1]["attributes"]["title"] = "x" * 1001
    with pytest.raises(InvalidMessage, match="over the limit"):
        check(events, limits)
    events = page_events(now_ms())
    events[2]["data"]["adds"][0]["node"]["childNodes"][0]["textContent"] = "y" * 1001
    with pytest.raises(InvalidMessage, match="over the limit"):
        check(events, limits)
    events = page_events(now_ms())
    events[2]["data"]["texts"].append({"id": 5, "value": "z" * 1001})
    with pytest.raises(InvalidMessage, match="over the limit"):
        check(events, limits)
    check(page_events(now_ms()), limits)
