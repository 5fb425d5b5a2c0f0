"""A keyframe: the events that bring rrweb's replayer to the mirror's state from nothing.

Meta, a FullSnapshot of the mirrored tree (the same node ids), then what a
snapshot cannot hold, all at the keyframe's timestamp: iframe documents (the
replayer takes them as mutations), attribute changes since elements were
built, adopted and changed style sheets, scroll offsets, input state, focus,
selection and the pointer. Replaying the keyframe and then the events after
it gives what replaying from the page's start gives.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.attributes import emitted
from replay_server.chunks.keyframes.mirror import (
    ADOPTED_STYLE_SHEET,
    FULL_SNAPSHOT,
    INCREMENTAL,
    META,
    MOUSE_INTERACTION,
    MOUSE_MOVE,
    MUTATION,
    SCROLL,
    Mirror,
)
from replay_server.chunks.keyframes.page import PageState
from replay_server.chunks.keyframes.trust import WorkBudget

Event = dict[str, Any]
_FOCUS = 5
_NO_LIMIT = 1 << 62


def synthesize_keyframe(mirror: Mirror, timestamp: int) -> list[Event] | None:
    """The keyframe of the mirror's page now, or None when it is untrusted
    (or no FullSnapshot was seen)."""
    page = mirror.page
    if page is None or not mirror.trusted or page.tree.root is None:
        return None
    root = page.tree.root
    budget = WorkBudget(_NO_LIMIT)
    width, height = mirror.viewport
    data: list[dict[str, Any]] = [
        {"href": mirror.href, "width": width, "height": height},
        {"node": page.tree.serialize(root, budget), "initialOffset": _offset(page, root)},
    ]
    events: list[Event] = [
        {"type": META, "timestamp": timestamp, "data": data[0]},
        {"type": FULL_SNAPSHOT, "timestamp": timestamp, "data": data[1]},
    ]
    incremental = [
        *_constructed_sheets(page, frames=False),
        *_frame_documents(page, budget),
        *_attribute_changes(page),
        *_constructed_sheets(page, frames=True),
        *_element_sheets(page),
        *_scrolls(page, root),
        *page.inputs.values(),
        *_pointer_state(page),
    ]
    events.extend({"type": INCREMENTAL, "timestamp": timestamp, "data": d} for d in incremental)
    return events


def _mutation(**lists: list[Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"source": MUTATION, "texts": [], "attributes": [], "removes": []}
    data["adds"] = []
    data.update(lists)
    return data


def _offset(page: PageState, root: int) -> dict[str, Any]:
    scroll = page.scrolls.get(root)
    if scroll is None:
        return dict(page.initial_offset)
    return {"left": scroll[0], "top": scroll[1]}


def _frame_documents(page: PageState, budget: WorkBudget) -> list[dict[str, Any]]:
    return [
        {
            **_mutation(
                adds=[
                    {"parentId": iframe, "nextId": None, "node": page.tree.serialize(doc, budget)}
                ]
            ),
            "isAttachIframe": True,
        }
        for iframe, doc in page.tree.frame_documents()
    ]


def _attribute_changes(page: PageState) -> list[dict[str, Any]]:
    entries = [
        {"id": nid, "attributes": {name: value}}
        for nid, changes in page.changes.items()
        for name, value in emitted(changes)
    ]
    return [_mutation(attributes=entries)] if entries else []


def _constructed_sheets(page: PageState, frames: bool) -> list[dict[str, Any]]:
    """Constructed sheets made and adopted per document (in the document's own
    adoption event, so each is made in its document's window), then their
    rule changes: for the main document (`frames` false) or the iframe
    documents.

    The main document's come before any mutation of the keyframe: a seek
    applies them at once then. After a mutation, rrweb's seek defers sheet
    events to its virtual DOM's flush, where rule changes run before the
    sheets they change are made, and are lost."""
    tree = page.tree
    documents = [doc for _, doc in tree.frame_documents()] if frames else [tree.root]
    made_in: dict[int, list[int]] = {}
    for style_id, sheet in page.sheets.items():
        made_in.setdefault(sheet.document, []).append(style_id)
    hosts_in: dict[int, list[int]] = {}
    for host in page.adoptions:
        document = tree.document_of(host)
        if document is not None and document != host:
            hosts_in.setdefault(document, []).append(host)
    out: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        made = made_in.get(document, [])
        if made or document in page.adoptions:
            adoption: dict[str, Any] = {
                "source": ADOPTED_STYLE_SHEET,
                "id": document,
                "styleIds": page.adoptions.get(document, []),
            }
            if made:
                adoption["styles"] = [{"styleId": s, "rules": page.sheets[s].rules} for s in made]
            out.append(adoption)
        out.extend(
            {"source": ADOPTED_STYLE_SHEET, "id": host, "styleIds": page.adoptions[host]}
            for host in hosts_in.get(document, [])
        )
        for style_id in made:
            out.extend(page.sheets[style_id].operations)
    return out


def _element_sheets(page: PageState) -> list[dict[str, Any]]:
    """Rule changes of <style> elements' sheets."""
    return [op for operations in page.node_sheet_operations.values() for op in operations]


def _scrolls(page: PageState, root: int) -> list[dict[str, Any]]:
    return [
        {"source": SCROLL, "id": nid, "x": x, "y": y}
        for nid, (x, y) in page.scrolls.items()
        if nid != root
    ]


def _pointer_state(page: PageState) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if page.focus is not None:
        out.append({"source": MOUSE_INTERACTION, "type": _FOCUS, "id": page.focus})
    if page.selection is not None:
        out.append(page.selection)
    if page.pointer is not None:
        x, y, nid = page.pointer
        out.append(
            {"source": MOUSE_MOVE, "positions": [{"x": x, "y": y, "id": nid, "timeOffset": 0}]}
        )
    return out
