"""One page's state as the replayer holds it after a FullSnapshot and the events since:
the DOM (tree) and what a snapshot cannot hold (changes, sheets, scroll, input, pointer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from replay_server.chunks.keyframes.attributes import Changes
from replay_server.chunks.keyframes.tree import Tree
from replay_server.chunks.keyframes.trust import MirrorLimits, Untrusted


class Sheet:
    """A constructed style sheet (adopted style sheets): the document whose
    window made it, the rules it was made with, the rule changes since."""

    __slots__ = ("document", "operations", "rules")

    def __init__(self, document: int, rules: object) -> None:
        self.document = document
        self.rules = rules
        self.operations: list[dict[str, Any]] = []


class PageState:
    __slots__ = (
        "adoptions",
        "changes",
        "focus",
        "ghost_sheets",
        "initial_offset",
        "inputs",
        "limits",
        "node_sheet_operations",
        "pointer",
        "scrolls",
        "selection",
        "sheet_operation_count",
        "sheets",
        "tree",
    )

    def __init__(self, limits: MirrorLimits, initial_offset: dict[str, Any]) -> None:
        self.limits = limits
        self.tree = Tree(limits)
        self.initial_offset = initial_offset
        self.changes: dict[int, Changes] = {}
        # Rule changes of <style> elements' sheets (StyleSheetRule/StyleDeclaration by id).
        self.node_sheet_operations: dict[int, list[dict[str, Any]]] = {}
        self.sheets: dict[int, Sheet] = {}  # by styleId
        self.ghost_sheets: set[int] = set()  # styleIds whose document went away
        self.adoptions: dict[int, list[int]] = {}  # host (document or shadow host) -> styleIds
        self.sheet_operation_count = 0
        self.scrolls: dict[int, tuple[Any, Any]] = {}
        self.inputs: dict[int, dict[str, Any]] = {}  # last input per node, in order of arrival
        self.pointer: tuple[Any, Any, Any] | None = None  # x, y, node id as sent
        self.focus: int | None = None
        self.selection: dict[str, Any] | None = None

    def forget(self, ids: Iterable[int]) -> None:
        """State of nodes that left the DOM goes with them (a node added again
        is a new node)."""
        gone = set(ids)
        for nid in gone:
            self.changes.pop(nid, None)
            self.reset_node_sheet(nid)
            self.adoptions.pop(nid, None)
            self.scrolls.pop(nid, None)
            self.inputs.pop(nid, None)
        if self.focus in gone:
            self.focus = None
        for style_id in [s for s, sheet in self.sheets.items() if sheet.document in gone]:
            # A constructed sheet of a document gone: the replayer still holds it.
            self.sheet_operation_count -= len(self.sheets.pop(style_id).operations)
            self.ghost_sheets.add(style_id)

    def reset_node_sheet(self, nid: int) -> None:
        """A <style> element's sheet is parsed again (its text changed): rule
        changes made to the old sheet are gone."""
        operations = self.node_sheet_operations.pop(nid, None)
        if operations is not None:
            self.sheet_operation_count -= len(operations)

    def count_sheet_operation(self) -> None:
        self.sheet_operation_count += 1
        if self.sheet_operation_count > self.limits.max_sheet_operations:
            raise Untrusted("too many style sheet rule changes")
