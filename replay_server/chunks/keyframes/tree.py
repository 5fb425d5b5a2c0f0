"""A page's DOM as rrweb's replayer holds it: serialized nodes by id, and where each one sits.

Every walk is iterative (depth is attacker-controlled). Nodes are kept as
rrweb serialized them (their `childNodes` and `isShadow` left out: places are
kept apart), so a FullSnapshot of the tree is built from what the replayer
was given, node ids included.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.trust import MirrorLimits, Untrusted, WorkBudget

DOCUMENT, DOCTYPE, ELEMENT, TEXT, CDATA, COMMENT = 0, 1, 2, 3, 4, 5
NODE_TYPES = frozenset({DOCUMENT, DOCTYPE, ELEMENT, TEXT, CDATA, COMMENT})
# Where a node sits in its parent: its child list, its shadow root, or (a
# document) as the content document of an iframe element.
LIGHT, SHADOW, FRAME = 0, 1, 2
# Elements attachShadow accepts (besides custom elements, whose names hold a dash).
SHADOW_HOST_TAGS = frozenset(
    {"article", "aside", "blockquote", "body", "div", "footer", "header", "main", "nav", "p"}
    | {"section", "span", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# The replayer scrolls these on a FullSnapshot rebuild only, not when a node is added.
_REBUILD_ONLY_ATTRIBUTES = ("rr_scrollLeft", "rr_scrollTop")

Place = tuple[int, int]  # (parent id, LIGHT | SHADOW | FRAME)


def locate(siblings: list[Any], item: object, budget: WorkBudget) -> int:
    """`siblings.index(item)`, charged for the scan and for the move of the
    list's tail that an insert or delete there costs."""
    index = siblings.index(item)
    budget.charge(index + len(siblings) // 32)
    return index


def node_id(value: object) -> int | None:
    """An id as the replayer would look it up (bools and floats are no ids)."""
    return value if type(value) is int else None


class Tree:
    __slots__ = ("children", "frames", "ghosts", "limits", "nodes", "parent", "root", "shadows")

    def __init__(self, limits: MirrorLimits) -> None:
        self.limits = limits
        self.nodes: dict[int, dict[str, Any]] = {}
        self.children: dict[int, list[int]] = {}  # documents and elements
        self.shadows: dict[int, list[int]] = {}  # present iff the host has a shadow root
        self.parent: dict[int, Place] = {}
        self.frames: dict[int, int] = {}  # iframe element id -> content document id
        # Ids the replayer's mirror still maps to nodes no longer in the DOM
        # (shadow and iframe content of removed subtrees, replaced children).
        self.ghosts: set[int] = set()
        self.root: int | None = None

    # -- reading

    def tag(self, nid: int) -> str | None:
        meta = self.nodes.get(nid)
        if meta is None or meta["type"] != ELEMENT:
            return None
        tag = meta["tagName"]
        return tag if isinstance(tag, str) else None

    def is_html(self, nid: int, tag: str) -> bool:
        """Whether `nid` is an HTML (not SVG) element named `tag` (the replayer
        compares upper-case nodeNames, which only HTML elements have)."""
        meta = self.nodes.get(nid)
        return (
            meta is not None
            and meta["type"] == ELEMENT
            and meta["tagName"] == tag
            and not meta.get("isSVG")
        )

    def container(self, place: Place) -> list[int]:
        pid, where = place
        return self.shadows[pid] if where == SHADOW else self.children[pid]

    def next_sibling(self, nid: int, budget: WorkBudget) -> int | None:
        place = self.parent.get(nid)
        if place is None or place[1] == FRAME:
            return None
        siblings = self.container(place)
        index = locate(siblings, nid, budget)
        return siblings[index + 1] if index + 1 < len(siblings) else None

    def contains(self, place: Place, nid: int, budget: WorkBudget) -> bool:
        """DOM `contains`: whether `nid` is inside the node tree of `place`'s
        container (not crossing into shadow roots or iframe documents)."""
        current = nid
        while True:
            budget.charge(1)
            up = self.parent.get(current)
            if up is None:
                return False
            if up == place:
                return True
            if up[1] != LIGHT:
                return False
            current = up[0]

    def document_of(self, nid: int) -> int | None:
        current = nid
        while True:
            meta = self.nodes.get(current)
            if meta is None:
                return None
            if meta["type"] == DOCUMENT:
                return current
            up = self.parent.get(current)
            if up is None:
                return None
            current = up[0]

    def attached(self, nid: int) -> bool:
        return nid in self.nodes and (nid == self.root or nid in self.parent)

    # -- building

    def new_node(self, serialized: object, *, added: bool) -> dict[str, Any]:
        """Our copy of one serialized node (no children); Untrusted if the
        replayer could not build it the way the snapshot would rebuild it."""
        if not isinstance(serialized, dict):
            raise Untrusted("a node is not a map")
        ntype, nid = serialized.get("type"), node_id(serialized.get("id"))
        if type(ntype) is not int or ntype not in NODE_TYPES or nid is None:
            raise Untrusted("a node without a known type or an id")
        if nid in self.nodes or nid in self.ghosts:
            raise Untrusted("a node id the replayer already maps")
        if ntype == CDATA:
            raise Untrusted("CDATA sections cannot be built in HTML documents")
        if len(self.nodes) >= self.limits.max_nodes:
            raise Untrusted("too many nodes")
        meta = {k: v for k, v in serialized.items() if k != "childNodes" and k != "isShadow"}
        if ntype == ELEMENT:
            attributes = meta.get("attributes")
            if not isinstance(meta.get("tagName"), str) or not isinstance(attributes, dict):
                raise Untrusted("an element without a tag name or attributes")
            attributes = dict(attributes)
            if added:
                for name in _REBUILD_ONLY_ATTRIBUTES:
                    attributes.pop(name, None)
            meta["attributes"] = attributes
        return meta

    def register(
        self, meta: dict[str, Any], place: Place | None, before: int | None, budget: WorkBudget
    ) -> int:
        """Put a new node at `place` (before `before`, or last)."""
        nid: int = meta["id"]
        self.nodes[nid] = meta
        ntype = meta["type"]
        if ntype in (DOCUMENT, ELEMENT):
            self.children[nid] = []
        if ntype == ELEMENT and meta.get("isShadowHost"):
            self.shadows[nid] = []
        if place is not None:
            self.insert(nid, place, before, budget)
        return nid

    def insert(self, nid: int, place: Place, before: int | None, budget: WorkBudget) -> None:
        if place[1] == FRAME:
            self.frames[place[0]] = nid
        else:
            siblings = self.container(place)
            if before is None:
                siblings.append(nid)
            else:
                siblings.insert(locate(siblings, before, budget), nid)
        self.parent[nid] = place

    def build_tree(self, serialized: object, place: Place | None, budget: WorkBudget) -> int:
        """Build a whole serialized tree as rrweb's buildNodeWithSN does
        (skipChild false): a FullSnapshot, or an iframe's document."""
        root = -1
        stack: list[tuple[object, Place | None]] = [(serialized, place)]
        while stack:
            item, at = stack.pop()
            budget.charge(1)
            meta = self.new_node(item, added=False)
            nid = self.register(meta, at, None, budget)
            if root == -1:
                root = nid
            assert isinstance(item, dict)
            if meta["type"] not in (DOCUMENT, ELEMENT):
                continue
            if self.is_html(nid, "textarea") and isinstance(meta["attributes"].get("value"), str):
                continue  # rebuilt from its value attribute; its children are not built
            kids = item.get("childNodes")
            if not isinstance(kids, list):
                raise Untrusted("a parent node without childNodes")
            host = nid in self.shadows
            for child in reversed(kids):
                shadow = host and isinstance(child, dict) and bool(child.get("isShadow"))
                stack.append((child, (nid, SHADOW if shadow else LIGHT)))
        return root

    # -- removing

    def detach(self, nid: int, budget: WorkBudget) -> None:
        place = self.parent.pop(nid, None)
        if place is None:
            return
        if place[1] == FRAME:
            if self.frames.get(place[0]) == nid:
                del self.frames[place[0]]
        else:
            siblings = self.container(place)
            del siblings[locate(siblings, nid, budget)]

    def delete(self, nid: int, budget: WorkBudget) -> list[int]:
        """Detach `nid` and forget its subtree as rrweb's mirror.removeNodeFromMap
        does: its light subtree leaves the map; what sits in shadow roots and
        iframes under it stays mapped (ghosts). Returns every id dropped."""
        self.detach(nid, budget)
        dropped: list[int] = []
        stack = [(nid, False)]
        while stack:
            current, ghost = stack.pop()
            budget.charge(1)
            meta = self.nodes.pop(current, None)
            if meta is None:
                continue
            dropped.append(current)
            self.parent.pop(current, None)
            if ghost:
                self.ghosts.add(current)
            stack.extend((child, ghost) for child in self.children.pop(current, ()))
            stack.extend((child, True) for child in self.shadows.pop(current, ()))
            frame_doc = self.frames.pop(current, None)
            if frame_doc is not None:
                stack.append((frame_doc, True))
        if len(self.ghosts) > self.limits.max_ghosts:
            raise Untrusted("too many nodes left mapped outside the DOM")
        return dropped

    def ghost_children(self, nid: int, budget: WorkBudget) -> list[int]:
        """The replayer dropped `nid`'s children from the DOM but still maps
        them (a textarea's value replaces them)."""
        dropped: list[int] = []
        for child in list(self.children.get(nid, ())):
            dropped.extend(self.delete(child, budget))
            self.ghosts.add(child)
        for child in dropped:
            self.ghosts.add(child)
        return dropped

    # -- serializing

    def serialize(self, nid: int, budget: WorkBudget) -> dict[str, Any]:
        """The serialized subtree of `nid`, as a FullSnapshot holds it (iframe
        documents left out: the replayer takes them as mutations)."""
        out_root: dict[str, Any] = {}
        stack: list[tuple[int, list[dict[str, Any]] | None, bool]] = [(nid, None, False)]
        while stack:
            current, into, shadow = stack.pop()
            budget.charge(1)
            out = dict(self.nodes[current])
            if shadow:
                out["isShadow"] = True
            if into is None:
                out_root = out
            else:
                into.append(out)
            kids = self.children.get(current)
            if kids is None:
                continue
            child_list: list[dict[str, Any]] = []
            out["childNodes"] = child_list
            stack.extend((c, child_list, True) for c in reversed(self.shadows.get(current, ())))
            stack.extend((c, child_list, False) for c in reversed(kids))
        return out_root

    def frame_documents(self) -> list[tuple[int, int]]:
        """(iframe id, document id) of the attached iframe documents, outer before inner."""
        found: list[tuple[int, int]] = []
        if self.root is None:
            return found
        stack = [self.root]
        while stack:
            current = stack.pop()
            doc = self.frames.get(current)
            if doc is not None:
                found.append((current, doc))
                stack.append(doc)
            stack.extend(reversed(self.shadows.get(current, ())))
            stack.extend(reversed(self.children.get(current, ())))
        return found
