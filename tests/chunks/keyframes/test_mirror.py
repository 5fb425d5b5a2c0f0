"""The mirror on its own: rrweb's rules for mutations, what it distrusts, and
hostile input (bounded, iterative, never raising)."""

from __future__ import annotations

import pickle
import time
from typing import Any

from replay_server.chunks.keyframes import Mirror, MirrorLimits, synthesize_keyframe
from tests.chunks.keyframes.sessions import PageWriter


def children_of(node: dict[str, Any]) -> list[int]:
    return [child["id"] for child in node.get("childNodes", [])]


def find(node: dict[str, Any], nid: int) -> dict[str, Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current["id"] == nid:
            return current
        stack.extend(current.get("childNodes", []))
    raise KeyError(nid)


def keyframe_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    mirror = Mirror()
    mirror.apply_all(events)
    keyframe = synthesize_keyframe(mirror, events[-1]["timestamp"])
    assert keyframe is not None, mirror.untrusted_reason
    return keyframe


def element(nid: int, tag: str = "p", **extra: Any) -> dict[str, Any]:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": {}, "childNodes": [], **extra}


def test_adds_wait_for_their_parent_and_next_sibling_in_the_same_mutation() -> None:
    page = PageWriter()
    app = page.elements()[0]
    first_row = page.kids[app][0]
    page.mutation(
        adds=[
            # Listed before the node it goes before, and a child before its parent:
            {"parentId": app, "nextId": 502, "node": element(501)},
            {"parentId": 503, "nextId": None, "node": {"type": 3, "id": 504, "textContent": "x"}},
            {"parentId": app, "nextId": first_row, "node": element(502)},
            {"parentId": 502, "nextId": None, "node": element(503, "span")},
        ]
    )
    snapshot = keyframe_of(page.events)[1]["data"]["node"]
    assert children_of(find(snapshot, app))[:3] == [501, 502, first_row]
    assert children_of(find(snapshot, 502)) == [503]
    assert children_of(find(snapshot, 503)) == [504]


def test_a_node_moved_in_one_mutation_keeps_its_id_and_loses_its_children() -> None:
    page = PageWriter()
    app = page.elements()[0]
    row = page.kids[app][0]
    page.move(row, page.host)  # removed from #app, added again under the shadow host's light DOM
    snapshot = keyframe_of(page.events)[1]["data"]["node"]
    assert row not in children_of(find(snapshot, app))
    moved = find(snapshot, row)
    assert moved["attributes"] == {"moved": "1"} and moved["childNodes"] == []


def test_shadow_roots_and_iframe_documents() -> None:
    page = PageWriter()
    app = page.elements()[0]  # a <div>: it can host a shadow root
    page.mutation(adds=[{"parentId": app, "nextId": None, "node": element(600, isShadow=True)}])
    keyframe = keyframe_of(page.events)
    snapshot = keyframe[1]["data"]["node"]
    host = find(snapshot, app)
    # The replayer rebuilds a shadow root only for a host marked so.
    assert host["isShadowHost"] is True and host["childNodes"][-1]["isShadow"] is True
    # The iframe's document is not in the snapshot: it follows as the recorder sends it.
    assert find(snapshot, page.iframe)["childNodes"] == []
    attach = keyframe[2]["data"]
    assert attach["isAttachIframe"] is True
    assert attach["adds"][0]["parentId"] == page.iframe
    assert attach["adds"][0]["node"]["id"] == page.frame_doc


def test_style_objects_merge_only_when_replaying_the_last_has_the_same_effect() -> None:
    page = PageWriter()
    target = page.elements()[1]
    for properties in (
        {"color": "red"},
        {"color": "blue"},  # the same property again: one change
        {"color": False},  # removed...
        {"color": "green"},  # ...then set again: appended, kept apart
        {"width": "3px"},
    ):
        page.set_attribute(target, "style", properties)
    changes = keyframe_of(page.events)[3]["data"]["attributes"]
    assert [c["attributes"]["style"] for c in changes] == [
        {"color": False},
        {"color": "green"},
        {"width": "3px"},
    ]
    page.set_attribute(target, "style", "color: black")  # a string replaces them all
    changes = keyframe_of(page.events)[3]["data"]["attributes"]
    assert [c["attributes"] for c in changes] == [{"style": "color: black"}]


def test_state_a_snapshot_cannot_hold_follows_it() -> None:
    page = PageWriter()
    field, box = page.inputs
    page.incremental(5, id=field, text="one", isChecked=False)
    page.incremental(5, id=box, text="on", isChecked=True)
    page.incremental(5, id=field, text="two", isChecked=False)  # the last input per node, in order
    page.incremental(3, id=page.doc, x=0, y=40)
    page.incremental(3, id=page.scrollables[0], x=0, y=7)
    page.incremental(8, id=page.style, adds=[{"rule": ".a { color: red; }", "index": 0}])
    page.incremental(1, positions=[{"x": 5, "y": 6, "id": field, "timeOffset": 0}])
    keyframe = keyframe_of(page.events)
    assert keyframe[1]["data"]["initialOffset"] == {"left": 0, "top": 40}
    restored = [e["data"] for e in keyframe[2:]]
    inputs = [d for d in restored if d["source"] == 5]
    assert [(d["id"], d["text"]) for d in inputs] == [(box, "on"), (field, "two")]
    assert {"source": 3, "id": page.scrollables[0], "x": 0, "y": 7} in restored
    assert any(d["source"] == 8 and d["id"] == page.style for d in restored)
    assert restored[-1]["positions"][0]["id"] == field
    # A sheet parsed again (its text changed) has lost the rules added to it.
    css_text = page.kids[page.style][0]
    page.mutation(texts=[{"id": css_text, "value": "p { color: blue; }"}])
    assert not any(e["data"].get("source") == 8 for e in keyframe_of(page.events)[2:])


def test_untrusted_until_the_next_full_snapshot() -> None:
    page = PageWriter()
    mirror = Mirror()
    mirror.apply_all(page.events)
    assert mirror.trusted
    mirror.apply({"type": 3, "timestamp": 1, "data": {"source": 9, "id": 5, "type": 0}})
    assert not mirror.trusted and "canvas" in (mirror.untrusted_reason or "")
    assert synthesize_keyframe(mirror, 2) is None
    mirror.apply_all(page.events[2:])  # more events: still untrusted
    assert not mirror.trusted
    mirror.apply(page.events[1])  # the page's next real FullSnapshot
    assert mirror.trusted and synthesize_keyframe(mirror, 3) is not None


def test_mutations_the_replayer_would_apply_differently_are_untrusted() -> None:
    def cases(page: PageWriter) -> list[dict[str, Any]]:
        app = page.elements()[0]
        head = page.parent[page.style][0]
        return [
            # Removing a node from a parent that does not hold it (the DOM throws half-way).
            {"removes": [{"parentId": head, "id": app}]},
            # A node id the replayer already maps (it would move the old node).
            {"adds": [{"parentId": app, "nextId": None, "node": element(page.host)}]},
            # A legacy add with a missing sibling.
            {"adds": [{"parentId": app, "nextId": -1, "node": element(700)}]},
            # A shadow root on an <input> (attachShadow throws).
            {"adds": [{"parentId": page.inputs[0], "node": element(701, isShadow=True)}]},
            # A style rebuilt from _cssText: rrweb's seek and play build different elements.
            {"attributes": [{"id": page.style, "attributes": {"_cssText": "p { color: red; }"}}]},
        ]

    for index in range(5):
        page = PageWriter()
        lists = cases(page)[index]
        page.mutation(**lists)
        mirror = Mirror()
        mirror.apply_all(page.events)
        assert not mirror.trusted, lists


def test_a_loaded_stylesheet_link_is_rebuilt_with_its_rules() -> None:
    page = PageWriter()
    page.set_attribute(page.link, "title", "changed before it loaded")
    page.set_attribute(page.link, "_cssText", "p { margin: 0; }")
    keyframe = keyframe_of(page.events)
    link = find(keyframe[1]["data"]["node"], page.link)
    assert link["attributes"]["_cssText"] == "p { margin: 0; }"
    # The replayer builds the new element from the serialized attributes: the
    # title set on the old one is gone, so no change of it follows.
    assert not any(
        c["id"] == page.link for e in keyframe[2:] for c in e["data"].get("attributes", [])
    )


def test_a_node_left_mapped_outside_the_dom_makes_the_page_untrusted_when_named() -> None:
    page = PageWriter()
    shadow_child = page.shadow[page.host][0]
    body = page.parent[page.host][0]
    page.mutation(removes=[{"parentId": body, "id": page.host}])
    mirror = Mirror()
    mirror.apply_all(page.events)
    assert mirror.trusted  # its shadow content is still mapped by the replayer, unnamed
    page.mutation(attributes=[{"id": shadow_child, "attributes": {"class": "x"}}])
    mirror.apply(page.events[-1])
    assert not mirror.trusted


def test_odd_input_never_raises() -> None:
    page = PageWriter()
    odd: list[Any] = [
        None,
        "text",
        {"type": 3},
        {"type": 3, "data": {"source": 0}},
        {
            "type": 3,
            "data": {"source": 0, "adds": [None], "removes": [], "texts": [], "attributes": []},
        },
        {"type": 3, "data": {"source": 0, "adds": [{"parentId": True, "node": {}}], "removes": []}},
        {"type": 3, "data": {"source": 3, "id": "5", "x": None}},
        {"type": 3, "data": {"source": 15, "id": 1, "styleIds": "x"}},
        {"type": 3, "data": {"source": 99}},
        {"type": 42, "data": {}},
        {"type": 2, "data": {"node": [], "initialOffset": 5}},
    ]
    for event in odd:
        mirror = Mirror()
        mirror.apply_all(page.events)
        mirror.apply(event)  # must not raise
        synthesize_keyframe(mirror, 0)


def test_deep_trees_are_walked_without_recursion() -> None:
    page = PageWriter()
    parent = page.elements()[0]
    adds = []
    for nid in range(10_000, 60_000):  # 50,000 levels, one add each
        adds.append({"parentId": parent, "nextId": None, "node": element(nid, "div")})
        parent = nid
    page.mutation(adds=adds)
    keyframe = keyframe_of(page.events)
    replay = Mirror()
    replay.apply_all(keyframe)
    assert replay.trusted


def test_a_quadratic_mutation_costs_bounded_time() -> None:
    page = PageWriter()
    app = page.elements()[0]
    # Each add goes before the previous one: a scan of the sibling list each time.
    adds = [
        {"parentId": app, "nextId": nid + 1 if nid < 139_999 else None, "node": element(nid)}
        for nid in range(100_000, 140_000)
    ]
    page.mutation(adds=list(reversed(adds)))
    mirror = Mirror(MirrorLimits(max_work_per_event=2_000_000))
    started = time.perf_counter()
    mirror.apply_all(page.events)
    assert time.perf_counter() - started < 5
    assert not mirror.trusted and "work" in (mirror.untrusted_reason or "")


def test_the_mirror_crosses_processes() -> None:
    page = PageWriter()
    page.incremental(5, id=page.inputs[0], text="kept", isChecked=False)
    mirror = Mirror()
    mirror.apply_all(page.events)
    copy = pickle.loads(pickle.dumps(mirror))
    assert synthesize_keyframe(copy, 9) == synthesize_keyframe(mirror, 9)


def test_large_ordinary_mutations_stay_trusted() -> None:
    """Appending 20,000 rows and removing them again, one mutation each: no
    scan of the sibling list per append, a bounded one per removal."""
    page = PageWriter()
    app = page.elements()[0]
    rows = range(200_000, 220_000)
    page.mutation(adds=[{"parentId": app, "nextId": None, "node": element(n)} for n in rows])
    page.mutation(removes=[{"parentId": app, "id": n} for n in rows])
    mirror = Mirror()
    started = time.perf_counter()
    mirror.apply_all(page.events)
    assert time.perf_counter() - started < 5
    assert mirror.trusted, mirror.untrusted_reason
