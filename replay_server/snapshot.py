"""The rrweb event model, mirroring @rrweb/types 2.1.6, and the validation of
untrusted events.

Only the structure the server and the player rely on is checked: event and
source types, timestamps, and the serialized node trees of full snapshots and
added nodes (types, ids, nesting). Payload fields the server never interprets
are passed through, bounded by the size limits of the frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeGuard

from replay_server.errors import InvalidMessage


class EventType(IntEnum):
    DOM_CONTENT_LOADED = 0
    LOAD = 1
    FULL_SNAPSHOT = 2
    INCREMENTAL_SNAPSHOT = 3
    META = 4
    CUSTOM = 5
    PLUGIN = 6
    ASSET = 7


class IncrementalSource(IntEnum):
    MUTATION = 0
    MOUSE_MOVE = 1
    MOUSE_INTERACTION = 2
    SCROLL = 3
    VIEWPORT_RESIZE = 4
    INPUT = 5
    TOUCH_MOVE = 6
    MEDIA_INTERACTION = 7
    STYLE_SHEET_RULE = 8
    CANVAS_MUTATION = 9
    FONT = 10
    LOG = 11
    DRAG = 12
    STYLE_DECLARATION = 13
    SELECTION = 14
    ADOPTED_STYLE_SHEET = 15
    CUSTOM_ELEMENT = 16


class NodeType(IntEnum):
    DOCUMENT = 0
    DOCUMENT_TYPE = 1
    ELEMENT = 2
    TEXT = 3
    CDATA = 4
    COMMENT = 5


class MouseInteraction(IntEnum):
    MOUSE_UP = 0
    MOUSE_DOWN = 1
    CLICK = 2
    CONTEXT_MENU = 3
    DBL_CLICK = 4
    FOCUS = 5
    BLUR = 6
    TOUCH_START = 7
    TOUCH_MOVE_DEPARTED = 8
    TOUCH_END = 9
    TOUCH_CANCEL = 10


_EVENT_TYPES = frozenset(int(t) for t in EventType)
_SOURCES = frozenset(int(s) for s in IncrementalSource)
_NODE_TYPES = frozenset(int(n) for n in NodeType)
_PARENT_TYPES = frozenset({int(NodeType.DOCUMENT), int(NodeType.ELEMENT)})

# Plain ints for the per-event path: reading an enum member costs ~10x a
# module constant, and validation runs for every event of every batch.
_FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)
_INCREMENTAL = int(EventType.INCREMENTAL_SNAPSHOT)
_META = int(EventType.META)
_CUSTOM = int(EventType.CUSTOM)
_PLUGIN = int(EventType.PLUGIN)
_NO_DATA_TYPES = frozenset({int(EventType.DOM_CONTENT_LOADED), int(EventType.LOAD)})
_MUTATION = int(IncrementalSource.MUTATION)
_MOVE_SOURCES = frozenset(
    int(s)
    for s in (IncrementalSource.MOUSE_MOVE, IncrementalSource.TOUCH_MOVE, IncrementalSource.DRAG)
)
_NODE_ID_SOURCES = frozenset(
    int(s)
    for s in (
        IncrementalSource.MOUSE_INTERACTION,
        IncrementalSource.SCROLL,
        IncrementalSource.INPUT,
    )
)
_ELEMENT = int(NodeType.ELEMENT)
_DOCUMENT = int(NodeType.DOCUMENT)


@dataclass(frozen=True)
class EventLimits:
    max_tree_depth: int = 1_000
    max_nodes_per_event: int = 500_000
    max_tag_length: int = 256
    max_string_length: int = 1024 * 1024


@dataclass(frozen=True)
class BatchSummary:
    """What the ingest path needs to know about a validated batch."""

    event_count: int
    first_ts: int
    last_ts: int
    has_full_snapshot: bool
    raw_bytes: int = 0  # the events as msgpack, decompressed (set by the ingest path)


def validate_events(
    events: object, *, now_ms: int, max_skew_ms: int, limits: EventLimits | None = None
) -> BatchSummary:
    """Raise InvalidMessage unless `events` is a non-empty list of valid rrweb events.

    `now_ms` is the server clock translated into the recorder's clock; events
    further than `max_skew_ms` from it are refused.
    """
    limits = limits or EventLimits()
    if not isinstance(events, list) or not events:
        raise InvalidMessage("events must be a non-empty array")
    first_ts = last_ts = 0
    full = False
    for index, event in enumerate(events):
        try:
            ts = _validate_event(event, limits)
        except InvalidMessage as e:
            code = "too_deep" if e.code == "too_deep" else "invalid_event"
            raise InvalidMessage(f"event {index}: {e.message}", code=code) from e
        if abs(ts - now_ms) > max_skew_ms:
            raise InvalidMessage(
                f"event {index}: timestamp {ts} is too far from the server clock",
                code="invalid_event",
            )
        if index == 0:
            first_ts = last_ts = ts
        elif ts < first_ts:
            first_ts = ts
        elif ts > last_ts:
            last_ts = ts
        if event["type"] == _FULL_SNAPSHOT:
            full = True
    return BatchSummary(len(events), first_ts, last_ts, full)


def _validate_event(event: object, limits: EventLimits) -> int:
    if not isinstance(event, dict):
        raise InvalidMessage("not a map")
    etype = event.get("type")
    if type(etype) is not int or etype not in _EVENT_TYPES:
        raise InvalidMessage(f"unknown event type {etype!r}")
    ts = event.get("timestamp")
    if not _is_number(ts) or not math.isfinite(ts) or ts < 0:
        raise InvalidMessage("timestamp must be a non-negative number")
    data = event.get("data")
    if etype == _INCREMENTAL and type(data) is dict:
        _validate_incremental(data, limits)
    elif etype in _NO_DATA_TYPES:
        if data is not None and not isinstance(data, dict):
            raise InvalidMessage("data must be a map")
    elif not isinstance(data, dict):
        raise InvalidMessage("data must be a map")
    elif etype == _FULL_SNAPSHOT:
        _validate_full_snapshot(data, limits)
    elif etype == _META:
        _validate_meta(data)
    elif etype == _CUSTOM:
        if not isinstance(data.get("tag"), str):
            raise InvalidMessage("custom event needs a string tag")
    elif etype == _PLUGIN:
        if not isinstance(data.get("plugin"), str):
            raise InvalidMessage("plugin event needs a string plugin name")
    return int(ts)


def _validate_meta(data: dict[str, Any]) -> None:
    if not isinstance(data.get("href"), str):
        raise InvalidMessage("meta event needs href")
    for key in ("width", "height"):
        value = data.get(key)
        if not _is_number(value) or value < 0:
            raise InvalidMessage(f"meta event needs a non-negative {key}")


def _validate_full_snapshot(data: dict[str, Any], limits: EventLimits) -> None:
    node = data.get("node")
    if not isinstance(node, dict) or node.get("type") != _DOCUMENT:
        raise InvalidMessage("full snapshot must hold a document node")
    offset = data.get("initialOffset")
    if not isinstance(offset, dict) or not all(_is_number(offset.get(k)) for k in ("top", "left")):
        raise InvalidMessage("full snapshot needs initialOffset {top, left}")
    validate_node_tree(node, limits)


def _validate_incremental(data: dict[str, Any], limits: EventLimits) -> None:
    source = data.get("source")
    if type(source) is not int or source not in _SOURCES:
        raise InvalidMessage(f"unknown incremental source {source!r}")
    if source == _MUTATION:
        _validate_mutation(data, limits)
    elif source in _MOVE_SOURCES:
        if not isinstance(data.get("positions"), list):
            raise InvalidMessage("mouse move needs positions")
    elif source in _NODE_ID_SOURCES and not _is_int(data.get("id")):
        raise InvalidMessage("interaction needs a node id")


def _validate_mutation(data: dict[str, Any], limits: EventLimits) -> None:
    texts = _mutation_list(data, "texts")
    attributes = _mutation_list(data, "attributes")
    removes = _mutation_list(data, "removes")
    adds = _mutation_list(data, "adds")
    for add in adds:
        if not isinstance(add, dict) or not _is_int(add.get("parentId")):
            raise InvalidMessage("added node needs parentId")
        validate_node_tree(add.get("node"), limits)
    for entries in (texts, attributes, removes):
        for item in entries:
            if not isinstance(item, dict) or not _is_int(item.get("id")):
                raise InvalidMessage("mutation entry needs an id")
    max_length = limits.max_string_length
    for text in texts:
        value = text.get("value")
        if isinstance(value, str) and len(value) > max_length:
            raise InvalidMessage(f"a string of {len(value)} characters is over the limit")
    for change in attributes:
        if isinstance(change.get("attributes"), dict):
            _check_strings(change["attributes"].values(), limits)


def _mutation_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise InvalidMessage(f"mutation needs a {key} array")
    return value


def validate_node_tree(root: object, limits: EventLimits) -> None:
    """Iterative walk (no recursion: depth is attacker-controlled)."""
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_tree_depth:
            raise InvalidMessage("node tree too deep", code="too_deep")
        if not isinstance(node, dict):
            raise InvalidMessage("node must be a map")
        ntype, nid = node.get("type"), node.get("id")
        if type(ntype) is not int or ntype not in _NODE_TYPES:
            raise InvalidMessage(f"unknown node type {ntype!r}")
        if type(nid) is not int:
            raise InvalidMessage("node needs an integer id")
        if nid in seen:
            raise InvalidMessage(f"node id {nid} appears twice")
        seen.add(nid)
        if len(seen) > limits.max_nodes_per_event:
            raise InvalidMessage("too many nodes")
        if ntype == _ELEMENT:
            tag = node.get("tagName")
            if not isinstance(tag, str) or not 0 < len(tag) <= limits.max_tag_length:
                raise InvalidMessage("element needs a tagName")
            attributes = node.get("attributes")
            if not isinstance(attributes, dict):
                raise InvalidMessage("element needs attributes")
            _check_strings(attributes.values(), limits)
        else:
            text = node.get("textContent")
            if isinstance(text, str) and len(text) > limits.max_string_length:
                raise InvalidMessage(f"a string of {len(text)} characters is over the limit")
        if ntype in _PARENT_TYPES:
            children = node.get("childNodes")
            if not isinstance(children, list):
                raise InvalidMessage("element needs childNodes")
            stack.extend((child, depth + 1) for child in children)


def _check_strings(values: Iterable[object], limits: EventLimits) -> None:
    for value in values:
        if isinstance(value, str) and len(value) > limits.max_string_length:
            raise InvalidMessage(f"a string of {len(value)} characters is over the limit")


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _is_number(value: object) -> TypeGuard[int | float]:
    kind = type(value)
    if kind is int or kind is float:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)
