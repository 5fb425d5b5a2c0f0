"""A page's node tree as the recording builds it (the FullSnapshot, then
mutations), kept just well enough to name the element a click hit with a
stable CSS selector.

The selector is a path from <html> down: `tag`, `#id` when the element has a
usable id (the path starts there), up to two classes, and `:nth-child(k)`
when siblings would match the same step. Classes are those the element had
when it appeared: a class toggled by the click itself ("active") would
otherwise make the selector miss the element in the recorded snapshot.
The dashboard finds the element in the drawn page with querySelector, so a
responsive layout that moves it still gets its clicks.

Only what a selector needs is kept (parent, children order, tag, id,
classes), for at most MAX_NODES nodes: a page past that gets "" (unknown
element) for what it adds later, and its clicks fall back to page coordinates.
"""

from __future__ import annotations

import functools
import re
from array import array
from dataclasses import dataclass, field
from typing import Any

MAX_NODES = 60_000
MAX_NODE_ID = 2**31 - 1  # ids are packed as 32-bit integers
Element = tuple[str, str, tuple[str, ...]]
# A tree packed for the trip between processes: root, then arrays of node ids
# and their parents, children lists flattened ([parent, count, child...]),
# element ids and their index into the list of distinct (tag, id, classes).
Packed = tuple[int, bytes, bytes, bytes, bytes, bytes, list[Element]]
MAX_CLASSES = 2
MAX_SELECTOR_LENGTH = 400
# rrweb NodeType values (@rrweb/types 2.1.6)
DOCUMENT = 0
ELEMENT = 2
# Identifiers a selector can hold without escaping. Generated names change
# between builds or page loads and are left out: React's ":r1:" (not an
# identifier), runs of digits ("row-12345"), hash-like parts mixing letters
# and digits ("css-1x2y3z9", "Button_primary__3xYz1"), CSS-in-JS prefixes.
_IDENT = re.compile(r"^-?[_a-zA-Z][_a-zA-Z0-9-]{0,63}$")
_GENERATED = re.compile(
    r"\d{3,}|(?:^|[-_])(?=[a-zA-Z]*\d)(?=\d*[a-zA-Z])[a-zA-Z0-9]{5,}(?:$|[-_])|^(?:css|sc|jsx)-"
)
_TAG = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass
class NodeTree:
    """The tree of one page view. Element data is (tag, id, classes)."""

    root: int = -1
    parent: dict[int, int] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    elements: dict[int, Element] = field(default_factory=dict)
    # Selectors already named, and for each parent whose children a cached
    # selector's position depends on, the nodes to forget when they change:
    # a page mostly changes elsewhere than where visitors click again.
    _selectors: dict[int, str] = field(default_factory=dict, compare=False, repr=False)
    _dependents: dict[int, list[int]] = field(default_factory=dict, compare=False, repr=False)

    def pack(self) -> Packed:
        """Compact and fast to pickle: a few byte strings instead of thousands
        of objects (the chunk worker gets and returns the tree with every cut)."""
        flat = array("i")
        for parent, children in self.children.items():
            flat.append(parent)
            flat.append(len(children))
            flat.extend(children)
        kinds: dict[Element, int] = {}
        element_kinds = array(
            "i", (kinds.setdefault(e, len(kinds)) for e in self.elements.values())
        )
        return (
            self.root,
            array("i", self.parent.keys()).tobytes(),
            array("i", self.parent.values()).tobytes(),
            flat.tobytes(),
            array("i", self.elements.keys()).tobytes(),
            element_kinds.tobytes(),
            list(kinds),
        )

    @classmethod
    def unpack(cls, packed: Packed) -> NodeTree:
        root, ids, parents, flat, element_ids, element_kinds, kinds = packed
        tree = cls(root, dict(zip(_ints(ids), _ints(parents), strict=True)))
        numbers = _ints(flat)
        i = 0
        while i < len(numbers):
            count = numbers[i + 1]
            tree.children[numbers[i]] = list(numbers[i + 2 : i + 2 + count])
            i += 2 + count
        tree.elements = dict(
            zip(_ints(element_ids), map(kinds.__getitem__, _ints(element_kinds)), strict=True)
        )
        return tree

    @classmethod
    def from_snapshot(cls, node: Any) -> NodeTree:
        tree = cls()
        if isinstance(node, dict) and isinstance(node.get("id"), int):
            tree.root = node["id"]
            tree._add([(node, -1, None)])
        return tree

    def apply_mutation(self, data: dict[str, Any]) -> None:
        removes = data.get("removes")
        if isinstance(removes, list):
            for remove in removes:
                if isinstance(remove, dict) and isinstance(remove.get("id"), int):
                    self._remove(remove["id"])
        adds = data.get("adds")
        if isinstance(adds, list) and adds:
            # In order, each with its subtree before the next (an add may go under
            # a node an earlier one added); one walk for them all.
            items: list[tuple[Any, int, int | None]] = []
            for add in reversed(adds):
                if type(add) is not dict:
                    continue
                parent, before = add.get("parentId"), add.get("nextId")
                if type(parent) is int and parent != -1:
                    items.append((add.get("node"), parent, before if type(before) is int else None))
            self._add(items)

    def selector(self, node_id: int) -> str:
        """The element's selector; "" when it is not an element of this page's
        document (unknown, in an iframe or shadow root) or the path is too long."""
        cached = self._selectors.get(node_id)
        if cached is not None:
            return cached
        steps: list[str] = []
        parents: list[int] = []  # whose children the steps' positions were taken from
        current = node_id
        while current != self.root:
            element = self.elements.get(current)
            parent = self.parent.get(current)
            if element is None or parent is None:
                return ""
            tag, ident, classes = element
            if ident:
                steps.append(f"{tag}#{ident}")
                break
            step = tag + "".join(f".{c}" for c in classes)
            position = self._nth_if_ambiguous(current, parent, element)
            parents.append(parent)
            if position:
                step += f":nth-child({position})"
            steps.append(step)
            current = parent
        if not steps:
            return ""
        selector = " > ".join(reversed(steps))
        if len(selector) > MAX_SELECTOR_LENGTH:
            selector = ""
        self._selectors[node_id] = selector
        for parent in parents:
            self._dependents.setdefault(parent, []).append(node_id)
        return selector

    def _children_changed(self, parent: int) -> None:
        nodes = self._dependents.pop(parent, None)
        if nodes:
            for node in nodes:
                self._selectors.pop(node, None)

    def _nth_if_ambiguous(self, node: int, parent: int, element: Element) -> int:
        """The element's 1-based position among its parent's element children
        (as :nth-child counts) when a sibling would match the same step (same
        tag, every class of ours), else 0. One pass over the siblings."""
        tag, _, classes = element
        elements = self.elements
        position = 0
        found = 0
        ambiguous = False
        for sibling in self.children.get(parent, ()):
            other = elements.get(sibling)
            if other is None:
                continue
            position += 1
            if sibling == node:
                found = position
            elif not ambiguous and other[0] == tag:
                theirs = other[2]
                ambiguous = all(c in theirs for c in classes)
            if found and ambiguous:
                return found
        return found if ambiguous else 0

    def _add(self, stack: list[tuple[Any, int, int | None]]) -> None:
        """Add (node, parent id, next sibling id) items, the last one first."""
        # Iterative: a page may nest deeper than the interpreter's recursion limit.
        # Hot (every node of every snapshot): locals, no generators.
        parents, children, elements = self.parent, self.children, self.elements
        dependents = self._dependents
        pop, push = stack.pop, stack.append
        while stack:
            current, parent_id, before_id = pop()
            if type(current) is not dict:
                continue
            if dependents and parent_id in dependents:
                self._children_changed(parent_id)
            node_id = current.get("id")
            # rrweb removes a node before adding it elsewhere: an id already in the
            # tree (or under a parent gone meanwhile) is bogus input, and skipped.
            if (
                type(node_id) is not int
                or not 0 <= node_id <= MAX_NODE_ID
                or node_id in parents
                or (parent_id != -1 and parent_id not in parents)
                or len(parents) >= MAX_NODES
            ):
                continue
            parents[node_id] = parent_id
            if parent_id != -1:
                siblings = children.get(parent_id)
                if siblings is None:
                    children[parent_id] = [node_id]
                elif before_id is not None and before_id in siblings:
                    siblings.insert(siblings.index(before_id), node_id)
                else:
                    siblings.append(node_id)
            kind = current.get("type")
            if kind == ELEMENT:
                attributes = current.get("attributes")
                if type(attributes) is not dict:
                    attributes = {}
                # Strings only reach the cache (a hostile list would not hash).
                elements[node_id] = _element(
                    _text(current.get("tagName")),
                    _text(attributes.get("id")),
                    _text(attributes.get("class")),
                )
            elif kind == DOCUMENT and parent_id != -1:
                continue  # an iframe's document: not part of this page's selectors
            child_nodes = current.get("childNodes")
            if type(child_nodes) is list and child_nodes:
                for child in reversed(child_nodes):
                    push((child, node_id, None))

    def _remove(self, node_id: int) -> None:
        parent = self.parent.get(node_id)
        if parent is None:
            return
        siblings = self.children.get(parent)
        if siblings is not None and node_id in siblings:
            siblings.remove(node_id)
        forget = bool(self._selectors)
        if forget:
            self._children_changed(parent)
        stack = [node_id]
        while stack:
            current = stack.pop()
            self.parent.pop(current, None)
            self.elements.pop(current, None)
            if forget:
                self._selectors.pop(current, None)
                self._dependents.pop(current, None)
            stack.extend(self.children.pop(current, ()))


def _ints(data: bytes) -> array[int]:
    numbers = array("i")
    numbers.frombytes(data)
    return numbers


def _text(value: Any) -> str:
    return value if type(value) is str else ""


@functools.lru_cache(maxsize=8192)
def _element(tag: str, ident: str, raw_classes: str) -> Element:
    """An element's (tag, id, classes) for selectors; cached, since a page
    repeats a few combinations thousands of times."""
    tag = tag.lower()
    if not _TAG.match(tag):
        tag = "*"
    classes = tuple(c for c in raw_classes.split() if usable(c))[:MAX_CLASSES]
    return tag, ident if usable(ident) else "", classes


def usable(name: str) -> bool:
    """An id or class that needs no escaping and does not look generated."""
    return bool(_IDENT.match(name)) and not _GENERATED.search(name)
