"""Small but valid rrweb event streams for tests (shapes as @rrweb/types 2.1.6)."""

from __future__ import annotations

import time
from typing import Any


def now_ms() -> int:
    return int(time.time() * 1000)


def page_events(
    start_ms: int, *, items: int = 3, href: str = "http://client.test/"
) -> list[dict[str, Any]]:
    """Meta + FullSnapshot of a small page, then `items` list items added one by one."""
    events: list[dict[str, Any]] = [
        {"type": 4, "timestamp": start_ms, "data": {"href": href, "width": 1280, "height": 720}},
        {
            "type": 2,
            "timestamp": start_ms + 1,
            "data": {
                "node": {
                    "type": 0,
                    "id": 1,
                    "childNodes": [
                        {"type": 1, "id": 2, "name": "html", "publicId": "", "systemId": ""},
                        {
                            "type": 2,
                            "id": 3,
                            "tagName": "html",
                            "attributes": {},
                            "childNodes": [
                                {
                                    "type": 2,
                                    "id": 4,
                                    "tagName": "body",
                                    "attributes": {},
                                    "childNodes": [
                                        {
                                            "type": 2,
                                            "id": 5,
                                            "tagName": "ul",
                                            "attributes": {"id": "list"},
                                            "childNodes": [],
                                        }
                                    ],
                                }
                            ],
                        },
                    ],
                },
                "initialOffset": {"top": 0, "left": 0},
            },
        },
    ]
    for i in range(items):
        events.append(mutation_add_item(start_ms + 100 * (i + 1), 100 + 2 * i, f"item {i}"))
    return events


def mutation_add_item(ts: int, node_id: int, text: str) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {
            "source": 0,
            "texts": [],
            "attributes": [],
            "removes": [],
            "adds": [
                {
                    "parentId": 5,
                    "nextId": None,
                    "node": {
                        "type": 2,
                        "id": node_id,
                        "tagName": "li",
                        "attributes": {},
                        "childNodes": [{"type": 3, "id": node_id + 1, "textContent": text}],
                    },
                }
            ],
        },
    }


def mouse_move(ts: int, x: int = 10, y: int = 20) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 1, "positions": [{"x": x, "y": y, "id": 4, "timeOffset": 0}]},
    }


def deep_page_events(start_ms: int, depth: int) -> list[dict[str, Any]]:
    """Meta + FullSnapshot of a page whose <body> holds `depth` nested <div>s
    (ordinary deep markup: component frameworks nest a hundred levels and more)."""
    innermost: dict[str, Any] = {"type": 3, "id": 10 + depth, "textContent": "deep"}
    node = innermost
    for level in range(depth, 0, -1):
        node = {
            "type": 2,
            "id": 9 + level,
            "tagName": "div",
            "attributes": {"class": f"level-{level}"},
            "childNodes": [node],
        }
    events = page_events(start_ms, items=0)
    body = events[1]["data"]["node"]["childNodes"][1]["childNodes"][0]
    body["childNodes"] = [node]
    return events
