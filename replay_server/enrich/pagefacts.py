"""What the insight rollups need of each page view, taken from its events as
chunks are cut: every click (the element it hit, named by a selector, and
where on the page), clicks found dead or followed by an error later, the
deepest scroll, the page height, the viewport and the time span.

Positions are page coordinates: rrweb records a click's clientX/clientY, so
the document's scroll offset at that moment is added. The document scroll
comes from the FullSnapshot's initialOffset and the scroll events of the
document node; the viewport from Meta and ViewportResize events; the page
height from the recorder's custom event "page-size" ({"height": px}), sent on
each snapshot and when the page grows. Without a page height (an older
recorder) the page view has no scroll depth and stays out of the scroll map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replay_server.enrich.nodetree import NodeTree, Packed

PAGE_SIZE_TAG = "page-size"
MAX_PAGE_PX = 1_000_000  # larger sizes or offsets are bogus: ignored / clamped
SOURCE_VIEWPORT_RESIZE = 4


# Counts of one element's clicks in one cut: clicks, rage, and the sums of their
# page coordinates (for the mean position). A list: cheap to add to and to pickle.
ElementClicks = list[int]
CLICKS, RAGE, X_SUM, Y_SUM = range(4)
CELL_PX = 16  # the click map's grain: clicks are counted per 16 px cell of the page


@dataclass
class PageFacts:
    """One page view's facts from one cut (added to what earlier cuts gave).
    Clicks come counted by element and by cell here, in the chunk worker, so
    that the server process handles each element once per cut, not each click."""

    first_ts: int = 0
    last_ts: int = 0
    elements: dict[str, ElementClicks] = field(default_factory=dict)  # by selector
    cells: dict[tuple[int, int], int] = field(default_factory=dict)
    dead: dict[str, int] = field(default_factory=dict)  # by selector: found dead
    errors: dict[str, int] = field(default_factory=dict)  # ... followed by an error
    max_bottom: int = 0  # deepest scroll: scroll offset + viewport height, px
    page_height: int = 0
    viewport: tuple[int, int] | None = None

    def add_click(self, selector: str, x: int, y: int, rage: bool) -> None:
        counts = self.elements.get(selector)
        if counts is None:
            counts = self.elements[selector] = [0, 0, 0, 0]
        counts[CLICKS] += 1
        counts[RAGE] += rage
        counts[X_SUM] += x
        counts[Y_SUM] += y
        cell = (x // CELL_PX, y // CELL_PX)
        self.cells[cell] = self.cells.get(cell, 0) + 1

    @property
    def clicks(self) -> int:
        return sum(c[CLICKS] for c in self.elements.values())

    def merge(self, other: PageFacts) -> None:
        if other.first_ts and (not self.first_ts or other.first_ts < self.first_ts):
            self.first_ts = other.first_ts
        self.last_ts = max(self.last_ts, other.last_ts)
        for selector, counts in other.elements.items():
            element = self.elements.setdefault(selector, [0, 0, 0, 0])
            for i, n in enumerate(counts):
                element[i] += n
        for cell, n in other.cells.items():
            self.cells[cell] = self.cells.get(cell, 0) + n
        for by_selector, more in ((self.dead, other.dead), (self.errors, other.errors)):
            for selector, n in more.items():
                by_selector[selector] = by_selector.get(selector, 0) + n
        self.max_bottom = max(self.max_bottom, other.max_bottom)
        self.page_height = max(self.page_height, other.page_height)
        self.viewport = other.viewport or self.viewport


class PageState:
    """The current page's tree, scroll and viewport, carried from cut to cut.

    The tree crosses to the chunk worker and back with every cut: it pickles
    packed (nodetree.Packed) and is unpacked only where it is used, so the
    server process that keeps the carry between cuts never builds its objects."""

    def __init__(self) -> None:
        self.page = -1
        self.scroll: tuple[int, int] = (0, 0)
        self.viewport: tuple[int, int] | None = None
        self._tree: NodeTree | None = None
        self._packed: Packed | None = None

    @property
    def tree(self) -> NodeTree:
        if self._tree is None:
            self._tree = NodeTree.unpack(self._packed) if self._packed else NodeTree()
            self._packed = None
        return self._tree

    @tree.setter
    def tree(self, tree: NodeTree) -> None:
        self._tree, self._packed = tree, None

    def document_id(self) -> int:
        # The packed tree starts with its root: no need to unpack it for a scroll.
        if self._tree is not None:
            root = self._tree.root
        else:
            root = self._packed[0] if self._packed else -1
        return root if root >= 0 else 1  # rrweb's document is node 1

    def bottom(self) -> int:
        return self.scroll[1] + self.viewport[1] if self.viewport else 0

    def __getstate__(self) -> dict[str, Any]:
        packed = self._tree.pack() if self._tree is not None else self._packed
        return {
            "page": self.page,
            "scroll": self.scroll,
            "viewport": self.viewport,
            "packed": packed,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.page, self.scroll, self.viewport = state["page"], state["scroll"], state["viewport"]
        self._tree, self._packed = None, state["packed"]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PageState):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]


def facts_of(pages: dict[int, PageFacts], page: int) -> PageFacts:
    facts = pages.get(page)
    if facts is None:
        facts = pages[page] = PageFacts()
    return facts


def add_time_span(facts: PageFacts, first_ts: float, last_ts: float) -> None:
    """The page view's events of this cut span first_ts..last_ts."""
    first, last = int(first_ts), int(last_ts)
    if first > 0 and (not facts.first_ts or first < facts.first_ts):
        facts.first_ts = first
    if last > 0:
        facts.last_ts = max(facts.last_ts, last)


def on_page(state: PageState, page: int) -> None:
    """Events of another page view: start afresh (its snapshot rebuilds the tree)."""
    if state.page != page:
        state.page = page
        state.tree = NodeTree()
        state.scroll = (0, 0)
        state.viewport = None


def on_meta(state: PageState, facts: PageFacts, data: dict[str, Any]) -> None:
    size = _size(data.get("width"), data.get("height"))
    if size is not None:
        state.viewport = size
        facts.viewport = size
        facts.max_bottom = max(facts.max_bottom, state.bottom())


def on_viewport(state: PageState, facts: PageFacts, data: dict[str, Any]) -> None:
    on_meta(state, facts, data)


def on_full_snapshot(state: PageState, facts: PageFacts, data: dict[str, Any]) -> None:
    state.tree = NodeTree.from_snapshot(data.get("node"))
    offset = data.get("initialOffset")
    if isinstance(offset, dict):
        state.scroll = (_px(offset.get("left")), _px(offset.get("top")))
    facts.max_bottom = max(facts.max_bottom, state.bottom())


def on_scroll(state: PageState, facts: PageFacts, data: dict[str, Any]) -> None:
    if data.get("id") != state.document_id():
        return  # an element scrolled inside the page, not the page
    state.scroll = (_px(data.get("x")), _px(data.get("y")))
    facts.max_bottom = max(facts.max_bottom, state.bottom())


def on_custom(facts: PageFacts, data: dict[str, Any]) -> None:
    if data.get("tag") != PAGE_SIZE_TAG:
        return
    payload = data.get("payload")
    if isinstance(payload, dict):
        height = payload.get("height")
        if isinstance(height, int | float) and 0 < height <= MAX_PAGE_PX:
            facts.page_height = max(facts.page_height, int(height))


def add_click(state: PageState, facts: PageFacts, data: dict[str, Any], rage: bool) -> str:
    """Count a click on its element and cell; its element's selector.

    Our recorder adds the document scroll at the click (`scrollX`,
    `scrollY`): rrweb's throttled scroll event may only follow the click.
    Without them, the last scroll seen stands in."""
    scroll_x, scroll_y = data.get("scrollX"), data.get("scrollY")
    if _is_number(scroll_x) and _is_number(scroll_y):
        state.scroll = (_px(scroll_x), _px(scroll_y))
        facts.max_bottom = max(facts.max_bottom, state.bottom())
    node = data.get("id")
    selector = state.tree.selector(node) if type(node) is int else ""
    x = min(_px(data.get("x")) + state.scroll[0], MAX_PAGE_PX)
    y = min(_px(data.get("y")) + state.scroll[1], MAX_PAGE_PX)
    facts.add_click(selector, x, y, rage)
    return selector


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _px(value: Any) -> int:
    if isinstance(value, int | float) and value == value:  # not NaN
        return max(0, min(int(value), MAX_PAGE_PX))
    return 0


def _size(width: Any, height: Any) -> tuple[int, int] | None:
    w, h = _px(width), _px(height)
    return (w, h) if w > 0 and h > 0 else None
