"""Style sheet changes a snapshot cannot hold: rule changes of <style> elements'
sheets, constructed sheets and which documents and shadow roots adopt them.

Kept as the events that made them (the replayer applies rule changes with
insertRule/deleteRule/setProperty on the live sheet), dropped when the sheet
they changed is gone: a <style> element's sheet is parsed again when its text
changes; a FullSnapshot starts with no constructed sheets.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.page import PageState, Sheet
from replay_server.chunks.keyframes.tree import DOCUMENT, node_id
from replay_server.chunks.keyframes.trust import Untrusted


def apply_rule_change(page: PageState, data: dict[str, Any]) -> None:
    """StyleSheetRule (8) or StyleDeclaration (13): on a constructed sheet
    (styleId) or on the sheet of the element `id`."""
    tree = page.tree
    style_id = data.get("styleId")
    if style_id:
        if style_id in page.ghost_sheets:
            raise Untrusted("a rule change of a sheet whose document is gone")
        sheet = page.sheets.get(style_id) if type(style_id) is int else None
        if sheet is None:
            return  # the replayer finds no sheet and does nothing
        if isinstance(data.get("replace"), str) or isinstance(data.get("replaceSync"), str):
            page.sheet_operation_count -= len(sheet.operations)
            sheet.operations.clear()  # every rule replaced: earlier changes do not matter
        sheet.operations.append(dict(data))
        page.count_sheet_operation()
        return
    raw = data.get("id")
    if not raw:
        return
    nid = node_id(raw)
    if nid is not None and nid in tree.ghosts:
        raise Untrusted("a rule change of a node outside the DOM")
    if nid is None or nid not in tree.nodes:
        return
    tag = tree.tag(nid)
    if tag == "link":
        raise Untrusted("a rule change of a linked sheet (loaded asynchronously)")
    if tag != "style":
        return  # no sheet: the replayer does nothing
    page.node_sheet_operations.setdefault(nid, []).append(dict(data))
    page.count_sheet_operation()


def apply_adoption(page: PageState, data: dict[str, Any]) -> None:
    """AdoptedStyleSheet (15): sheets made in the host's window, then adopted
    by the host (a document or a shadow root)."""
    tree = page.tree
    host = node_id(data.get("id"))
    if host is not None and host in tree.ghosts:
        raise Untrusted("sheets adopted by a node outside the DOM")
    if host is None or host not in tree.nodes:
        return
    is_document = tree.nodes[host]["type"] == DOCUMENT
    window = tree.document_of(host) if (host in tree.shadows or is_document) else None
    styles = data.get("styles")
    for style in styles if isinstance(styles, list) else ():
        if window is None:
            continue  # no window: the replayer makes no sheet
        style_id = style.get("styleId") if isinstance(style, dict) else None
        if type(style_id) is not int:
            raise Untrusted("a constructed sheet without an id")
        if style_id in page.sheets or style_id in page.ghost_sheets:
            raise Untrusted("a constructed sheet id made twice")
        page.sheets[style_id] = Sheet(window, style.get("rules"))
    style_ids = data.get("styleIds")
    if not isinstance(style_ids, list) or not all(type(s) is int for s in style_ids):
        raise Untrusted("an adoption without a list of sheet ids")
    if window is None:
        if style_ids:
            raise Untrusted("sheets adopted by an element without a shadow root")
        return
    if not all(s in page.sheets for s in style_ids):
        # The replayer retries on timers until the sheets exist.
        raise Untrusted("an adoption of sheets not made yet")
    page.adoptions[host] = list(style_ids)
