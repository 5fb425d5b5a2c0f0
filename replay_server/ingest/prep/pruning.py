"""Pruning node trees too deep for every stage to carry.

A snapshot nests two levels per DOM level (a node map, its childNodes array),
and the codecs on the data path stop near 1,000 levels (bounds.py), so a
page nested deeper than REPLAY_MAX_TREE_DEPTH is not refused whole: that
would lose the whole page view. Its deepest nodes keep their own data but
lose their children, and carry `data-rs-pruned` so the replay shows where.
Pure: no I/O."""

from __future__ import annotations

from typing import Any

from replay_server.snapshot import EventType, IncrementalSource

PRUNED_ATTRIBUTE = "data-rs-pruned"
_FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)
_INCREMENTAL = int(EventType.INCREMENTAL_SNAPSHOT)
_MUTATION = int(IncrementalSource.MUTATION)


def prune_deep_trees(events: list[Any], max_depth: int) -> int:
    """Empty the children of nodes at `max_depth` (a snapshot's document, or an
    added subtree's root, is depth 0); return how many nodes lost them."""
    pruned = 0
    for event in events:
        for root in _tree_roots(event):
            pruned += _prune(root, max_depth)
    return pruned


def _tree_roots(event: Any) -> list[Any]:
    if type(event) is not dict or type(event.get("data")) is not dict:
        return []
    data = event["data"]
    if event.get("type") == _FULL_SNAPSHOT:
        return [data.get("node")]
    if event.get("type") == _INCREMENTAL and data.get("source") == _MUTATION:
        adds = data.get("adds")
        if type(adds) is list:
            return [add.get("node") for add in adds if type(add) is dict]
    return []


def _prune(root: Any, max_depth: int) -> int:
    pruned = 0
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if type(node) is not dict:
            continue
        children = node.get("childNodes")
        if type(children) is not list or not children:
            continue
        if depth >= max_depth:
            node["childNodes"] = []
            attributes = node.get("attributes")
            if type(attributes) is dict:
                attributes[PRUNED_ATTRIBUTE] = str(len(children))
            pruned += 1
            continue
        stack.extend((child, depth + 1) for child in children)
    return pruned
