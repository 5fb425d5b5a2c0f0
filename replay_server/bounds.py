"""Bounds on decoded untrusted data that every stage of the data path honours.

A batch the ingest path acks has to make the whole trip: spool record, chunk,
the JSON and msgpack read APIs, the export and the live view. Each encoder and
decoder on that trip has limits of its own (ormsgpack packs 254 levels of
nesting, msgpack-python and ormsgpack unpack about 1,020, json.dumps about
990 minus its caller's stack; msgpack cannot carry integers past 64 bits;
JSON cannot carry binary values, NaN or lone surrogates). So the edge checks
one set of bounds that all of them can carry (`check_events`), and the
encoders that have a lower limit fall back to one that has not (`pack`).

Decoding is bounded too: a few KB of msgpack can describe millions of empty
maps (1 byte each, ~70 bytes each once decoded). `decode_bounded` counts what
it builds and stops at the item budget instead of after the damage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import msgpack
import ormsgpack

from replay_server.errors import InvalidMessage, TooLarge

# Containers nested in a batch's events array, the array itself being level 1.
# 500 leaves room under every codec above for the wrappers the read paths add
# (a response map, a chunk list), and carries a DOM about 245 elements deep
# under <body> (each element is a node map plus its childNodes array).
MAX_NESTING = 500
# What msgpack can carry: int64 and uint64.
MIN_INT = -(2**63)
MAX_INT = 2**64 - 1
_JSON_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")


@dataclass(frozen=True)
class StructureLimits:
    """`max_items`: containers plus values in one decoded batch."""

    max_items: int
    max_nesting: int = MAX_NESTING


class _OverBudget(Exception):
    """Raised inside msgpack's hooks to stop decoding (not a ValueError)."""


def decode_bounded(data: bytes, max_items: int) -> Any:
    """Decode untrusted msgpack holding at most `max_items` containers and values.

    Maps must have string keys; extension types are refused (ValueError). A
    document too small to exceed the budget goes to ormsgpack (~2.5x faster);
    a larger one is decoded by msgpack-python with hooks that count every
    container and its entries as it is built, so decoding stops at the budget.
    """
    if len(data) <= max_items:
        # Every item takes at least one byte: the budget cannot be exceeded.
        return ormsgpack.unpackb(data)
    counter = _Counter(max_items)
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            object_hook=counter.map,
            list_hook=counter.array,
            max_array_len=max_items,
            max_map_len=max_items,
            ext_hook=_no_ext,
        )
    except _OverBudget as e:
        raise TooLarge(
            f"batch holds more than {max_items} values once decoded", code="batch_too_large"
        ) from e
    except ValueError as e:
        if "exceeds max_" in str(e):  # one array or map longer than the whole budget
            raise TooLarge(
                f"batch holds more than {max_items} values once decoded", code="batch_too_large"
            ) from e
        raise
    except msgpack.ExtraData as e:
        raise ValueError("extra data after the msgpack document") from e


class _Counter:
    def __init__(self, budget: int) -> None:
        self.left = budget

    def map(self, value: dict[Any, Any]) -> dict[Any, Any]:
        self.left -= len(value) + 1
        if self.left < 0:
            raise _OverBudget
        for key in value:
            if type(key) is not str:
                raise ValueError("map keys must be strings")
        return value

    def array(self, value: list[Any]) -> list[Any]:
        self.left -= len(value) + 1
        if self.left < 0:
            raise _OverBudget
        return value


def _no_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not accepted")


def check_events(events: list[Any], limits: StructureLimits) -> int:
    """Raise unless every stage can carry `events`; return how many items it holds.

    Refused: nesting past `max_nesting`, more than `max_items` items, binary
    values, NaN and infinities, integers outside 64 bits, non-string keys and
    any other type JSON and msgpack do not both carry.
    """
    max_items, max_nesting = limits.max_items, limits.max_nesting
    items = 0
    stack: list[tuple[dict[Any, Any] | list[Any], int]] = [(events, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        container, depth = pop()
        items += len(container) + 1
        if items > max_items:
            raise TooLarge(f"batch holds more than {max_items} values", code="batch_too_large")
        if type(container) is dict:
            children: Any = container.values()
            for key in container:
                if type(key) is not str:
                    raise InvalidMessage("map keys must be strings", code="invalid_event")
        else:
            children = container
        for child in children:
            kind = type(child)
            if kind is str or kind is bool or child is None:
                continue
            if kind is int:
                if not MIN_INT <= child <= MAX_INT:
                    raise InvalidMessage("integers must fit in 64 bits", code="invalid_event")
            elif kind is dict or kind is list:
                if depth >= max_nesting:
                    raise InvalidMessage(
                        f"events nest deeper than {max_nesting} levels", code="too_deep"
                    )
                push((child, depth + 1))
            elif kind is float:
                if not math.isfinite(child):
                    raise InvalidMessage(
                        "NaN and infinite numbers are not accepted", code="invalid_event"
                    )
            else:
                raise InvalidMessage(
                    f"{kind.__name__} values are not accepted in events", code="invalid_event"
                )
    return items


def has_json_surrogate_escape(text: bytes) -> bool:
    """True when JSON text may decode to lone surrogates (only \\uD800-\\uDFFF
    escapes produce them: raw surrogate bytes are invalid UTF-8 and refused)."""
    return _JSON_SURROGATE.search(text) is not None


def repair_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (and keys) replaced by
    U+FFFD, in place where it can; pairs written as two escapes become the
    character they encode. Iterative: the nesting is the sender's choice."""
    if type(value) is str:
        return _repair_text(value)
    stack: list[Any] = [value]
    while stack:
        container = stack.pop()
        if type(container) is dict:
            if not all(k.isascii() for k in container):
                fixed = {_repair_text(k): v for k, v in container.items()}
                container.clear()
                container.update(fixed)
            entries: Any = container.items()
        elif type(container) is list:
            entries = enumerate(container)
        else:
            continue
        for key, child in list(entries):
            if type(child) is str:
                container[key] = _repair_text(child)
            elif type(child) is dict or type(child) is list:
                stack.append(child)
    return value


def _repair_text(text: str) -> str:
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def pack(value: Any) -> bytes:
    """msgpack of checked data: ormsgpack (fast), or msgpack-python for the
    nesting between ormsgpack's 254 levels and MAX_NESTING that it refuses."""
    try:
        return ormsgpack.packb(value)
    except TypeError as e:
        if "recursion" not in str(e).lower():
            raise
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed
