"""Server-side masking (replay_server/ingest/masking.py) on hand-built rrweb events."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from replay_server.privacy.masking import (
    MaskPolicy,
    PageNodes,
    SessionNodes,
    browser_says_no,
    honours_dnt,
    mask_events,
    mask_text,
    mask_value,
)

SECRET = "Jane Doe 42"
STRICT = MaskPolicy(mask_inputs=True, mask_text=False)
LOOSE = MaskPolicy(mask_inputs=False, mask_text=False)


def el(node_id: int, tag: str, attrs: dict[str, Any], *children: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attrs,
        "childNodes": list(children),
    }


def text(node_id: int, content: str, **extra: Any) -> dict[str, Any]:
    return {"type": 3, "id": node_id, "textContent": content, **extra}


def snapshot(*body: dict[str, Any]) -> dict[str, Any]:
    html = el(2, "html", {}, el(3, "body", {}, *body))
    return {"type": 2, "timestamp": 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}}}


def form_snapshot() -> dict[str, Any]:
    return snapshot(
        el(10, "input", {"type": "text", "value": SECRET}),
        el(11, "input", {"type": "password", "value": SECRET}),
        el(12, "textarea", {"value": SECRET}),
        el(13, "textarea", {}, text(14, SECRET)),
        el(15, "select", {"value": "fr"}, el(16, "option", {"value": "fr", "selected": True})),
        el(17, "input", {"type": "checkbox", "value": "newsletter", "checked": True}),
        el(18, "input", {"type": "submit", "value": "Send"}),
        el(19, "input", {"type": "hidden", "value": "jane@example.org"}),
        el(20, "p", {}, text(21, "Hello visitor")),
        el(22, "style", {}, text(23, "p { color: red }", isStyle=True)),
    )


def input_event(node_id: int, value: str, checked: bool = False) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": 2,
        "data": {"source": 5, "id": node_id, "text": value, "isChecked": checked},
    }


def mutation(**data: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}
    return {"type": 3, "timestamp": 3, "data": {**base, **data}}


def nodes_by_id(event: dict[str, Any]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    stack = [event["data"]["node"]]
    while stack:
        node = stack.pop()
        found[node["id"]] = node
        stack.extend(node.get("childNodes", []))
    return found


def test_masked_forms_keep_length_only() -> None:
    assert mask_value(SECRET) == "*" * len(SECRET)
    assert mask_value("****") is None and mask_value("") is None
    assert mask_text("Hello  world\n") == "*****  *****\n"
    assert mask_text("** *") is None


@given(st.text())
def test_masking_never_keeps_a_character(value: str) -> None:
    masked = mask_value(value)
    result = value if masked is None else masked
    assert set(result) <= {"*"} and len(result) == len(value)
    masked_text = mask_text(value)
    result = value if masked_text is None else masked_text
    assert all(ch == "*" or ch.isspace() for ch in result) and len(result) == len(value)


def test_full_snapshot_values_are_masked_by_default() -> None:
    event = form_snapshot()
    count = mask_events([event], PageNodes(), STRICT)
    nodes = nodes_by_id(event)
    for node_id in (10, 11, 12):
        assert nodes[node_id]["attributes"]["value"] == "*" * len(SECRET)
    assert nodes[14]["textContent"] == "*" * len(SECRET)
    assert nodes[15]["attributes"]["value"] == "**"
    assert "selected" not in nodes[16]["attributes"]
    assert nodes[19]["attributes"]["value"] == "*" * len("jane@example.org")
    # static values from the page itself and page text stay
    assert nodes[17]["attributes"]["value"] == "newsletter"
    assert nodes[18]["attributes"]["value"] == "Send"
    assert nodes[21]["textContent"] == "Hello visitor"
    assert count == 7
    assert SECRET not in repr(event)


def test_passwords_are_masked_whatever_the_settings() -> None:
    nodes = PageNodes()
    event = form_snapshot()
    mask_events([event], nodes, LOOSE)
    by_id = nodes_by_id(event)
    assert by_id[11]["attributes"]["value"] == "*" * len(SECRET)
    assert by_id[10]["attributes"]["value"] == SECRET  # the site chose not to mask inputs
    typed = [input_event(10, "visible"), input_event(11, "hunter2")]
    assert mask_events(typed, nodes, LOOSE) == 1
    assert typed[0]["data"]["text"] == "visible"
    assert typed[1]["data"]["text"] == "*******"


def test_a_revealed_password_stays_masked() -> None:
    nodes = PageNodes()
    mask_events([form_snapshot()], nodes, LOOSE)
    reveal = mutation(attributes=[{"id": 11, "attributes": {"type": "text"}}])
    typed = input_event(11, "hunter2")
    value_change = mutation(attributes=[{"id": 11, "attributes": {"value": "hunter2"}}])
    assert mask_events([reveal, typed, value_change], nodes, LOOSE) == 2
    assert typed["data"]["text"] == "*******"
    assert value_change["data"]["attributes"][0]["attributes"]["value"] == "*******"


def test_input_events_and_mutations_are_masked() -> None:
    nodes = PageNodes()
    mask_events([form_snapshot()], nodes, STRICT)
    events = [
        input_event(10, SECRET),
        input_event(17, "newsletter", checked=True),  # a checkbox's value is not typed
        input_event(999, SECRET),  # unknown node: an Input event is a form field
        mutation(attributes=[{"id": 10, "attributes": {"value": SECRET, "class": "x"}}]),
        mutation(texts=[{"id": 14, "value": SECRET}, {"id": 21, "value": "Bye"}]),
        mutation(
            adds=[
                {
                    "parentId": 3,
                    "nextId": None,
                    "node": el(30, "input", {"type": "email", "value": SECRET}),
                },
                {"parentId": 13, "nextId": None, "node": text(31, SECRET)},
            ]
        ),
        input_event(30, SECRET),
        mutation(attributes=[{"id": 20, "attributes": {"value": "3"}}]),  # not a form field
    ]
    assert mask_events(events, nodes, STRICT) == 7
    assert SECRET not in repr(events)
    assert events[1]["data"]["text"] == "newsletter"
    assert events[3]["data"]["attributes"][0]["attributes"]["class"] == "x"
    assert events[4]["data"]["texts"][1]["value"] == "Bye"
    assert events[7]["data"]["attributes"][0]["attributes"]["value"] == "3"


def test_unknown_page_fails_towards_masking() -> None:
    """Without the page's snapshot (server restart mid-page), even a site that does
    not mask inputs gets values of unknown nodes masked: they may be passwords."""
    events = [
        input_event(10, "maybe a password"),
        mutation(attributes=[{"id": 10, "attributes": {"value": "typed"}}]),
    ]
    assert mask_events(events, PageNodes(), LOOSE) == 2
    assert events[0]["data"]["text"] == "*" * len("maybe a password")


def test_text_masking_when_the_site_asks() -> None:
    policy = MaskPolicy(mask_inputs=True, mask_text=True)
    nodes = PageNodes()
    event = form_snapshot()
    mask_events([event], nodes, policy)
    by_id = nodes_by_id(event)
    assert by_id[21]["textContent"] == "***** *******"
    assert by_id[23]["textContent"] == "p { color: red }"  # CSS is not text
    change = mutation(texts=[{"id": 21, "value": "Dear Jane"}, {"id": 23, "value": "a{}"}])
    added = mutation(adds=[{"parentId": 20, "nextId": None, "node": text(40, "Jane")}])
    assert mask_events([change, added], nodes, policy) == 2
    assert change["data"]["texts"] == [{"id": 21, "value": "**** ****"}, {"id": 23, "value": "a{}"}]
    assert added["data"]["adds"][0]["node"]["textContent"] == "****"


def test_already_masked_values_are_not_counted() -> None:
    event = snapshot(el(10, "input", {"type": "text", "value": "*****"}))
    assert mask_events([event, input_event(10, "***")], PageNodes(), STRICT) == 0


def test_session_nodes_keep_recent_pages_only() -> None:
    session = SessionNodes()
    first = session.page(0)
    assert session.page(0) is first
    for page in range(1, 6):
        session.page(page)
    assert sorted(session.pages) == [3, 4, 5]


def test_settings_and_signals() -> None:
    assert MaskPolicy.from_settings({}) == MaskPolicy(True, False)
    assert MaskPolicy.from_settings({"mask_all_inputs": False, "mask_all_text": True}) == (
        MaskPolicy(False, True)
    )
    assert honours_dnt({}) and honours_dnt({"honor_dnt": True})
    assert not honours_dnt({"honor_dnt": False})
    assert browser_says_no({"DNT": "1"}) and browser_says_no({"Sec-GPC": "1"})
    assert not browser_says_no({"DNT": "0"}) and not browser_says_no({})
