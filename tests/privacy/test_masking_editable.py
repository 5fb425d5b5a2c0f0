"""Server-side masking of contenteditable text and of non-string values
(replay_server/privacy/masking.py), on hand-built events from a recorder that
does not mask, directly and through the frame preparer."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from replay_server.ingest.prep.preparer import FrameContext, FramePreparer
from replay_server.privacy.masking import MaskPolicy, PageNodes, mask_events
from replay_server.protocol import Limits
from replay_server.snapshot import EventLimits
from tests.privacy.test_masking import el, input_event, mutation, nodes_by_id, snapshot, text
from tests.rrweb_events import now_ms

TYPED = "Dear Jane, call 555-0199"
DEFAULTS = MaskPolicy()  # inputs masked, page text not


def editable_snapshot(value: object = "") -> dict[str, Any]:
    return snapshot(
        el(
            10, "div", {"contenteditable": value}, text(11, TYPED), el(12, "b", {}, text(13, TYPED))
        ),
        el(20, "div", {"contenteditable": "false"}, text(21, "Plain text")),
        el(30, "p", {}, text(31, "Plain text")),
    )


@pytest.mark.parametrize("value", ["", "true", "TRUE", "plaintext-only", True])
def test_snapshot_text_inside_contenteditable_is_masked(value: object) -> None:
    event = editable_snapshot(value)
    assert mask_events([event], PageNodes(), DEFAULTS) == 2
    by_id = nodes_by_id(event)
    assert TYPED not in repr(event)
    assert by_id[11]["textContent"] == "".join(" " if c.isspace() else "*" for c in TYPED)
    assert by_id[21]["textContent"] == "Plain text"
    assert by_id[31]["textContent"] == "Plain text"


def test_typing_into_contenteditable_is_masked() -> None:
    nodes = PageNodes()
    mask_events([editable_snapshot()], nodes, DEFAULTS)
    typed = [
        mutation(texts=[{"id": 11, "value": TYPED}, {"id": 31, "value": "Page text"}]),
        mutation(adds=[{"parentId": 12, "nextId": None, "node": text(40, TYPED)}]),
        mutation(
            adds=[{"parentId": 10, "nextId": None, "node": el(41, "span", {}, text(42, TYPED))}]
        ),
        mutation(texts=[{"id": 42, "value": TYPED}]),
    ]
    assert mask_events(typed, nodes, DEFAULTS) == 4
    assert TYPED not in repr(typed)
    assert typed[0]["data"]["texts"][1]["value"] == "Page text"


def test_an_element_made_editable_later_is_masked() -> None:
    nodes = PageNodes()
    mask_events([editable_snapshot()], nodes, DEFAULTS)
    events = [
        mutation(attributes=[{"id": 30, "attributes": {"contenteditable": "true"}}]),
        mutation(texts=[{"id": 31, "value": TYPED}]),  # its existing text node, typed into
        mutation(adds=[{"parentId": 30, "nextId": None, "node": text(50, TYPED)}]),
        mutation(adds=[{"parentId": 99, "nextId": None, "node": text(51, TYPED)}]),  # deeper
    ]
    mask_events(events, nodes, DEFAULTS)
    assert TYPED not in repr(events)


def test_an_added_editable_element_is_masked() -> None:
    nodes = PageNodes()
    mask_events([editable_snapshot()], nodes, DEFAULTS)
    added = mutation(
        adds=[
            {
                "parentId": 3,
                "nextId": None,
                "node": el(60, "div", {"contenteditable": ""}, text(61, TYPED)),
            }
        ]
    )
    later = mutation(texts=[{"id": 61, "value": TYPED}])
    assert mask_events([added, later], nodes, DEFAULTS) == 2
    assert TYPED not in repr([added, later])


NON_STRINGS: list[object] = [[TYPED], 5550199, TYPED.encode(), {"v": TYPED}, 3.5]


@pytest.mark.parametrize("value", NON_STRINGS)
def test_non_string_values_are_masked_by_position(value: object) -> None:
    nodes = PageNodes()
    page = snapshot(
        el(10, "input", {"type": "text"}),
        el(11, "input", {"type": "password", "value": value}),
        el(12, "div", {"contenteditable": "true"}, text(13, "x")),
    )
    events = [
        page,
        input_event(10, value),  # type: ignore[arg-type]
        input_event(11, value),  # type: ignore[arg-type]
        mutation(attributes=[{"id": 11, "attributes": {"value": value}}]),
        mutation(texts=[{"id": 13, "value": value}]),
    ]
    assert mask_events(events, nodes, MaskPolicy(mask_inputs=False)) == 5
    assert events[1]["data"]["text"] == value  # a text field of a site that does not mask inputs
    dumped = repr([events[0], *events[2:]])
    assert TYPED not in dumped and "5550199" not in dumped and "3.5" not in dumped
    for masked in (
        nodes_by_id(page)[11]["attributes"]["value"],
        events[2]["data"]["text"],
        events[3]["data"]["attributes"][0]["attributes"]["value"],
        events[4]["data"]["texts"][0]["value"],
    ):
        assert isinstance(masked, str) and set(masked) <= {"*"}


def test_an_attribute_removal_stays_a_removal() -> None:
    nodes = PageNodes()
    mask_events([snapshot(el(11, "input", {"type": "password"}))], nodes, DEFAULTS)
    removal = mutation(attributes=[{"id": 11, "attributes": {"value": None}}])
    assert mask_events([removal], nodes, DEFAULTS) == 0
    assert removal["data"]["attributes"][0]["attributes"]["value"] is None


def test_the_frame_preparer_stores_editable_text_masked() -> None:
    preparer = FramePreparer(Limits(4 << 20, 16 << 20, 10_000), EventLimits(), 300_000, 100)
    context = FrameContext("5b0c5a52-3f4e-4a43-9d6b-1c1f6f0b8a11", -1, 0, 0, DEFAULTS)
    now = now_ms()
    meta = {
        "type": 4,
        "timestamp": now,
        "data": {"href": "https://shop.example/", "width": 800, "height": 600},
    }
    events = [meta, editable_snapshot(), mutation(texts=[{"id": 11, "value": TYPED}])]
    for event in events:
        event["timestamp"] = now
    events[1]["data"]["initialOffset"] = {"top": 0, "left": 0}
    frame = msgpack.packb({"t": "batch", "seq": 0, "page": 0, "events": events})
    prepared = preparer.prepare(frame, context)
    assert prepared is not None and prepared.masked == 3
    assert prepared.events is not None and TYPED.encode() not in prepared.events


def test_a_page_whose_snapshot_was_not_seen_masks_text() -> None:
    """A server restart mid-page: which text is editable is unknown, so text is masked."""
    events = [
        mutation(texts=[{"id": 11, "value": TYPED}]),
        mutation(adds=[{"parentId": 10, "nextId": None, "node": text(40, TYPED)}]),
        mutation(adds=[{"parentId": ["x"], "nextId": None, "node": text(41, TYPED)}]),
    ]
    assert mask_events(events, PageNodes(), DEFAULTS) == 3
    assert TYPED not in repr(events)
