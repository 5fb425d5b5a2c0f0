"""The mirror: one page's DOM as rrweb's replayer holds it, kept by applying every event.

Pure (no I/O) and picklable: it runs in the chunk worker and may cross
processes between chunks. `apply` never raises: an event it cannot model
makes the page untrusted until the page's next real FullSnapshot.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.mutation import apply_mutation
from replay_server.chunks.keyframes.page import PageState
from replay_server.chunks.keyframes.sheets import apply_adoption, apply_rule_change
from replay_server.chunks.keyframes.tree import node_id
from replay_server.chunks.keyframes.trust import (
    UNMODELLED_SOURCES,
    MirrorLimits,
    Untrusted,
    WorkBudget,
    unmodelled_source,
)

FULL_SNAPSHOT, INCREMENTAL, META = 2, 3, 4
# Event types that change nothing the replayer shows: DomContentLoaded, Load,
# Custom, Plugin (the player registers no plugin), Asset.
_INERT_TYPES = frozenset({0, 1, 5, 6, 7})
MUTATION, MOUSE_MOVE, MOUSE_INTERACTION, SCROLL, VIEWPORT_RESIZE, INPUT = 0, 1, 2, 3, 4, 5
TOUCH_MOVE, STYLE_SHEET_RULE, LOG, DRAG, STYLE_DECLARATION, SELECTION = 6, 8, 11, 12, 13, 14
ADOPTED_STYLE_SHEET, CUSTOM_ELEMENT = 15, 16
_MOVES = frozenset({MOUSE_MOVE, TOUCH_MOVE, DRAG})
# Replayed by nothing that changes the DOM (the replayer has no case for custom elements).
_INERT_SOURCES = frozenset({LOG, CUSTOM_ELEMENT})
# Mouse interactions after which the replayer moves its pointer (and hover) to the target.
_POINTER_INTERACTIONS = frozenset({0, 1, 2, 7, 9})
FOCUS, BLUR = 5, 6


class Mirror:
    __slots__ = ("href", "limits", "page", "untrusted_reason", "viewport")

    def __init__(self, limits: MirrorLimits | None = None) -> None:
        self.limits = limits or MirrorLimits()
        self.page: PageState | None = None  # None before the first FullSnapshot
        self.untrusted_reason: str | None = None
        self.href: Any = ""
        self.viewport: tuple[Any, Any] = (0, 0)

    @property
    def trusted(self) -> bool:
        """Whether a keyframe of the page now would replay exactly."""
        return self.page is not None and self.untrusted_reason is None

    def apply_all(self, events: list[Any]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        etype, data = event.get("type"), event.get("data")
        if etype == FULL_SNAPSHOT:
            self._full_snapshot(data)
            return
        if not isinstance(data, dict):
            return
        if etype == META:
            self.href = data.get("href", "")
            self.viewport = (data.get("width"), data.get("height"))
            return
        if self.page is None:
            return  # before the first FullSnapshot, or untrusted until the next
        try:
            if etype == INCREMENTAL:
                self._incremental(self.page, data)
            elif etype not in _INERT_TYPES:
                raise Untrusted(f"event type {etype!r} is not modelled")
        except Untrusted as e:
            self._distrust(e.reason)
        except Exception as e:  # odd input the checks above missed: untrusted, never a crash
            self._distrust(f"an event the mirror could not apply ({type(e).__name__})")

    def _distrust(self, reason: str) -> None:
        self.untrusted_reason = reason
        self.page = None  # nothing to keep until the next FullSnapshot

    def _full_snapshot(self, data: Any) -> None:
        self.untrusted_reason = None
        self.page = None
        try:
            if not isinstance(data, dict):
                raise Untrusted("a FullSnapshot without data")
            offset = data.get("initialOffset")
            page = PageState(self.limits, dict(offset) if isinstance(offset, dict) else {})
            budget = WorkBudget(self.limits.max_work_per_event)
            page.tree.root = page.tree.build_tree(data.get("node"), None, budget)
            self.page = page
        except Untrusted as e:
            self._distrust(e.reason)
        except Exception as e:
            self._distrust(f"a FullSnapshot the mirror could not build ({type(e).__name__})")

    def _incremental(self, page: PageState, data: dict[str, Any]) -> None:
        source = data.get("source")
        if source == MUTATION:
            apply_mutation(page, data, WorkBudget(self.limits.max_work_per_event))
        elif source in _MOVES:
            positions = data.get("positions")
            if isinstance(positions, list) and positions and isinstance(positions[-1], dict):
                last = positions[-1]
                self._point(page, last.get("x"), last.get("y"), last.get("id"))
        elif source == MOUSE_INTERACTION:
            self._interaction(page, data)
        elif source == SCROLL:
            nid = self._target(page, data.get("id"))
            if nid is not None:
                page.scrolls[nid] = (data.get("x"), data.get("y"))
        elif source == VIEWPORT_RESIZE:
            self.viewport = (data.get("width"), data.get("height"))
        elif source == INPUT:
            nid = self._target(page, data.get("id"))
            if nid is not None:
                page.inputs.pop(nid, None)  # keep the order of the last input per node
                page.inputs[nid] = dict(data)
        elif source in (STYLE_SHEET_RULE, STYLE_DECLARATION):
            apply_rule_change(page, data)
        elif source == ADOPTED_STYLE_SHEET:
            apply_adoption(page, data)
        elif source == SELECTION:
            page.selection = dict(data)
        elif source in UNMODELLED_SOURCES:
            raise unmodelled_source(source)
        elif source not in _INERT_SOURCES:
            raise Untrusted(f"incremental source {source!r} is not modelled")

    def _target(self, page: PageState, raw: object) -> int | None:
        nid = node_id(raw)
        if nid is None:
            return None
        if nid in page.tree.ghosts:
            raise Untrusted("an event names a node the replayer holds outside the DOM")
        return nid if nid in page.tree.nodes else None

    def _point(self, page: PageState, x: Any, y: Any, raw: Any) -> None:
        # A seek leaves the replayer's pointer (and :hover) at the last pointer
        # position, looked up once everything before it is applied.
        page.pointer = (x, y, raw)

    def _interaction(self, page: PageState, data: dict[str, Any]) -> None:
        kind, raw = data.get("type"), data.get("id")
        if raw == -1:
            return
        nid = self._target(page, raw)
        if nid is None:
            return
        if kind in _POINTER_INTERACTIONS:
            self._point(page, data.get("x") or 0, data.get("y") or 0, nid)
        elif kind == FOCUS:
            page.focus = nid
        elif kind == BLUR and page.focus == nid:
            page.focus = None
