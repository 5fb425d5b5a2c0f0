"""A Mutation event applied as rrweb's replayer applies it (Replayer.applyMutation, real DOM):
removes, then adds (with the queue for adds whose parent or next sibling comes
later), then texts (the last per node), then attributes.

Where the replayer would throw half-way (a DOM exception aborts the rest of
the mutation) or keep state the tree does not hold, the page is untrusted.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.attributes import change_style, set_attribute
from replay_server.chunks.keyframes.page import PageState
from replay_server.chunks.keyframes.tree import (
    DOCTYPE,
    DOCUMENT,
    ELEMENT,
    FRAME,
    LIGHT,
    SHADOW,
    SHADOW_HOST_TAGS,
    TEXT,
    Place,
    Tree,
    locate,
    node_id,
)
from replay_server.chunks.keyframes.trust import Untrusted, WorkBudget


def apply_mutation(page: PageState, data: dict[str, Any], budget: WorkBudget) -> None:
    _removes(page, _entries(data, "removes"), budget)
    _adds(page, _entries(data, "adds"), budget)
    _texts(page, _entries(data, "texts"))
    _attributes(page, _entries(data, "attributes"), budget)


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Untrusted(f"a mutation without a {key} list of maps")
    return value


def _known(tree: Tree, value: object) -> int | None:
    """The node id `value` names if the replayer maps it; Untrusted if the
    replayer maps it to a node outside the DOM."""
    nid = node_id(value)
    if nid is None:
        return None
    if nid in tree.ghosts:
        raise Untrusted("a mutation names a node the replayer holds outside the DOM")
    return nid if nid in tree.nodes else None


def _removes(page: PageState, removes: list[dict[str, Any]], budget: WorkBudget) -> None:
    tree = page.tree
    present = [r for r in removes if _known(tree, r.get("id")) is not None]
    for remove in present:
        nid = remove["id"]
        if nid not in tree.nodes:
            continue  # went with an ancestor removed before it
        pid = _known(tree, remove.get("parentId"))
        if pid is None:
            continue
        where = SHADOW if remove.get("isShadow") and pid in tree.shadows else LIGHT
        if tree.parent.get(nid) != (pid, where):
            raise Untrusted("a node removed from a parent that does not hold it")
        if tree.is_html(pid, "style"):
            page.reset_node_sheet(pid)
        page.forget(tree.delete(nid, budget))


def _adds(page: PageState, adds: list[dict[str, Any]], budget: WorkBudget) -> None:
    queue: list[dict[str, Any]] = []
    for add in adds:
        _append(page, add, queue, budget)
    # The replayer retries queued adds as trees (queueToResolveTrees) until
    # none is left or it gives up; a pass that appends nothing changes nothing.
    while queue:
        budget.charge(len(queue))
        pending, queue = queue, []
        progress = False
        for root in _resolve_trees(pending, budget):
            if _known(page.tree, root.value.get("parentId")) is None:
                progress = True  # the replayer drops the whole tree
                continue
            stack = [root]
            while stack:
                item = stack.pop()
                progress = _append(page, item.value, queue, budget) or progress
                stack.extend(item.children)  # the last child first, as iterateResolveTree
        if not progress:
            break


class _Pending:
    __slots__ = ("children", "parent", "value")

    def __init__(self, value: dict[str, Any], parent: _Pending | None) -> None:
        self.value = value
        self.parent = parent
        self.children: list[_Pending] = []


def _resolve_trees(queue: list[dict[str, Any]], budget: WorkBudget) -> list[_Pending]:
    """rrweb's queueToResolveTrees: queued adds grouped under the add of their
    parent, or put before the add of their next sibling."""
    by_id: dict[object, _Pending] = {}
    roots: list[_Pending] = []
    for mutation in queue:
        next_id, parent_id = mutation.get("nextId"), mutation.get("parentId")
        node = mutation.get("node")
        key = node.get("id") if isinstance(node, dict) else None
        if next_id and next_id in by_id:
            after = by_id[next_id]
            siblings = after.parent.children if after.parent is not None else roots
            item = _Pending(mutation, after.parent)
            siblings.insert(locate(siblings, after, budget), item)
        elif parent_id in by_id:
            above = by_id[parent_id]
            item = _Pending(mutation, above)
            above.children.append(item)
        else:
            item = _Pending(mutation, None)
            roots.append(item)
        by_id[key] = item
    return roots


def _append(
    page: PageState, add: dict[str, Any], queue: list[dict[str, Any]], budget: WorkBudget
) -> bool:
    """One add (the replayer's appendNode). False when it was queued."""
    tree = page.tree
    node = add.get("node")
    if not isinstance(node, dict):
        raise Untrusted("an added node is not a map")
    pid = _known(tree, add.get("parentId"))
    if pid is None:
        if node.get("type") == DOCUMENT:
            raise Untrusted("an iframe document arrived before its iframe")
        queue.append(add)
        return False
    where = LIGHT
    if node.get("isShadow"):
        _attach_shadow(tree, pid)
        where = SHADOW
    previous = _known(tree, add.get("previousId")) if add.get("previousId") else None
    next_raw = add.get("nextId")
    after = _known(tree, next_raw) if next_raw else None
    if next_raw is not None and next_raw != -1 and after is None:
        queue.append(add)
        return False
    root_id = node.get("rootId")
    if root_id and _known(tree, root_id) is None:
        return True  # the replayer drops a node of a document it does not know
    if tree.is_html(pid, "iframe"):
        _attach_document(page, pid, node, budget)
        return True
    if add.get("previousId") == -1 or next_raw == -1:
        raise Untrusted("an add with a missing sibling (-1)")
    meta = tree.new_node(node, added=True)
    _check_parent(tree, pid, meta)
    place = (pid, where)
    before = _position(tree, place, previous, after, budget)
    tree.register(meta, place, before, budget)
    if tree.is_html(pid, "style"):
        page.reset_node_sheet(pid)
    return True


def _attach_shadow(tree: Tree, host: int) -> None:
    if host in tree.shadows:
        return
    tag = tree.tag(host)
    if tag is None or not (tag in SHADOW_HOST_TAGS or "-" in tag):
        raise Untrusted("a shadow root on a node that cannot host one")
    tree.shadows[host] = []
    # A FullSnapshot rebuilds the shadow root only for a host marked so.
    tree.nodes[host]["isShadowHost"] = True


def _check_parent(tree: Tree, pid: int, meta: dict[str, Any]) -> None:
    """Insertions the DOM refuses, and the replayer's own special cases."""
    ptype, ntype = tree.nodes[pid]["type"], meta["type"]
    if ntype == DOCUMENT:
        raise Untrusted("a document added outside an iframe")
    if ptype == DOCUMENT:
        kinds = {tree.nodes[c]["type"] for c in tree.children[pid]}
        if ntype == TEXT or (ntype in (DOCTYPE, ELEMENT) and ntype in kinds):
            raise Untrusted("a document given a second root or a text node")
    elif ptype == ELEMENT:
        if ntype == DOCTYPE:
            raise Untrusted("a doctype added to an element")
        if ntype == TEXT and tree.is_html(pid, "textarea"):
            raise Untrusted("a text node added to a textarea")
        if ntype == TEXT and tree.is_html(pid, "style") and not tree.children[pid]:
            if isinstance(tree.nodes[pid]["attributes"].get("_cssText"), str):
                raise Untrusted("a text node added to a style built from _cssText")
    else:
        raise Untrusted("a node added to a node that cannot have children")


def _position(
    tree: Tree, place: Place, previous: int | None, after: int | None, budget: WorkBudget
) -> int | None:
    """The node to insert before (None: append), as the replayer picks it."""
    if previous is not None:
        sibling = tree.next_sibling(previous, budget)
        if sibling is not None:
            if tree.parent.get(sibling) != place:
                raise Untrusted("an add after a node of another parent")
            return sibling
    if after is not None and after in tree.parent:
        if tree.parent[after] == place:
            return after
        if tree.contains(place, after, budget):
            raise Untrusted("an add before a node deeper in its parent")
    return None


def _attach_document(
    page: PageState, iframe: int, node: dict[str, Any], budget: WorkBudget
) -> None:
    """An iframe's document, built whole (the replayer's attachDocumentToIframe);
    a document that replaces another leaves the old one's nodes mapped."""
    tree = page.tree
    if node.get("type") != DOCUMENT:
        raise Untrusted("an iframe given a node that is not a document")
    old = tree.frames.get(iframe)
    if old is not None:
        dropped = tree.delete(old, budget)
        tree.ghosts.update(dropped)
        page.forget(dropped)
    tree.build_tree(node, (iframe, FRAME), budget)


def _texts(page: PageState, texts: list[dict[str, Any]]) -> None:
    tree = page.tree
    done: set[object] = set()
    for text in reversed(texts):  # the last change per node (uniqueTextMutations)
        raw = text.get("id")
        if raw in done:
            continue
        done.add(raw)
        nid = _known(tree, raw)
        if nid is None:
            continue
        meta = tree.nodes[nid]
        if meta["type"] in (DOCUMENT, DOCTYPE):
            continue  # textContent of these is null: setting it does nothing
        if meta["type"] == ELEMENT:
            raise Untrusted("a text change of an element")
        value = text.get("value")
        if value is not None and not isinstance(value, str):
            raise Untrusted("a text change that is not a string")
        meta["textContent"] = value or ""
        place = tree.parent.get(nid)
        if place is not None and place[1] == LIGHT and tree.is_html(place[0], "style"):
            meta["isStyle"] = True  # the replayer adapts the CSS either way
            page.reset_node_sheet(place[0])


def _attributes(page: PageState, changes: list[dict[str, Any]], budget: WorkBudget) -> None:
    tree = page.tree
    for change in changes:
        nid = _known(tree, change.get("id"))
        if nid is None:
            continue
        if tree.nodes[nid]["type"] != ELEMENT:
            raise Untrusted("an attribute change of a node that is not an element")
        attributes = change.get("attributes")
        if not isinstance(attributes, dict):
            raise Untrusted("an attribute change without a map of attributes")
        _element_attributes(page, nid, attributes, budget)


def _element_attributes(
    page: PageState, nid: int, attributes: dict[str, Any], budget: WorkBudget
) -> None:
    tree = page.tree
    changes = page.changes.setdefault(nid, {})
    for name, value in attributes.items():
        if nid in page.node_sheet_operations and name != "_cssText":
            # Whether the browser parses the sheet again (media, type...) is not modelled.
            raise Untrusted("an attribute change of a style element whose rules changed")
        if value is None:
            set_attribute(changes, name, None)
        elif isinstance(value, str):
            if name == "_cssText" and tree.is_html(nid, "link"):
                _rebuild_link(page, nid, attributes)
                return
            if name == "_cssText" and tree.is_html(nid, "style"):
                # The replayer rebuilds the element; seeking (its virtual DOM)
                # and playing (the real DOM) give different elements.
                raise Untrusted("a style element rebuilt from _cssText")
            if name == "value" and tree.is_html(nid, "textarea"):
                if len(tree.children[nid]) > 1:
                    # The replayer removes children while iterating over them: half stay.
                    raise Untrusted("a textarea value change over several child nodes")
                page.forget(tree.ghost_children(nid, budget))
            set_attribute(changes, name, value)
        elif name == "style" and isinstance(value, dict):
            change_style(changes, value, page.limits.max_style_groups_per_element)
        # Other values (numbers, lists, a style given as neither) change nothing.
    if not changes:
        del page.changes[nid]


def _rebuild_link(page: PageState, nid: int, attributes: dict[str, Any]) -> None:
    """A stylesheet link that loaded (the recorder inlines its rules): the
    replayer builds a new element (a <style>) from the serialized attributes
    with these merged in, and puts it in the link's place. Changes since the
    link was built are gone with the old element."""
    meta = page.tree.nodes[nid]
    merged = {**meta["attributes"], **attributes}
    if merged == meta["attributes"]:
        raise Untrusted("a _cssText change the replayer applies by moving the same node")
    meta["attributes"] = merged
    page.changes.pop(nid, None)
