"""Pruning node trees deeper than REPLAY_MAX_TREE_DEPTH (ingest/pruning.py)."""

from __future__ import annotations

from typing import Any

from replay_server.ingest.prep.pruning import PRUNED_ATTRIBUTE, prune_deep_trees
from tests.rrweb_events import deep_page_events, now_ms


def chain(depth: int, first_id: int = 100) -> dict[str, Any]:
    """`depth` nested <span>s: the root is depth 0."""
    node: dict[str, Any] = {"type": 3, "id": first_id + depth, "textContent": "x"}
    for level in range(depth - 1, -1, -1):
        node = {
            "type": 2,
            "id": first_id + level,
            "tagName": "span",
            "attributes": {},
            "childNodes": [node],
        }
    return node


def depth_of(node: dict[str, Any]) -> int:
    depth = 0
    while node.get("childNodes"):
        node, depth = node["childNodes"][0], depth + 1
    return depth


def test_shallow_events_are_left_alone() -> None:
    events = deep_page_events(now_ms(), 10)
    assert prune_deep_trees(events, 20) == 0
    assert events == deep_page_events(events[0]["timestamp"], 10)


def test_an_added_subtree_is_pruned_at_the_limit_counted_from_its_root() -> None:
    add = {"parentId": 5, "nextId": None, "node": chain(30)}
    event = {
        "type": 3,
        "timestamp": now_ms(),
        "data": {"source": 0, "adds": [add], "removes": [], "texts": [], "attributes": []},
    }
    assert prune_deep_trees([event], 10) == 1
    assert depth_of(add["node"]) == 10
    node = add["node"]
    for _ in range(10):
        node = node["childNodes"][0]
    assert node["attributes"] == {PRUNED_ATTRIBUTE: "1"}


def test_hostile_shapes_are_skipped_not_raised() -> None:
    events: list[Any] = [
        None,
        {"type": 2, "data": {"node": "no"}},
        {"type": 3, "data": {"source": 0, "adds": [1, {"node": {"childNodes": 3}}]}},
    ]
    assert prune_deep_trees(events, 0) == 0
