"""Where the mirror cannot be trusted, and the bounds it keeps on what the internet sent.

The mirror models what rrweb's replayer does to the DOM. When an event asks
for something it does not model (canvas drawing, media state, web fonts), or a
mutation the replayer would apply in a way that depends on state the mirror
does not keep (a node the replayer still maps after it left the DOM, a DOM
exception half-way through a mutation), the page is untrusted: no keyframe is
synthesized for it until its next real FullSnapshot. Correctness first.
"""

from __future__ import annotations

from dataclasses import dataclass

# Incremental sources whose effect the mirror does not model.
CANVAS_MUTATION = 9
MEDIA_INTERACTION = 7
FONT = 10
UNMODELLED_SOURCES = frozenset({CANVAS_MUTATION, MEDIA_INTERACTION, FONT})
_SOURCE_NAMES = {CANVAS_MUTATION: "canvas", MEDIA_INTERACTION: "media", FONT: "font"}


class Untrusted(Exception):
    """Raised inside the mirror when a page stops being modelled exactly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def unmodelled_source(source: int) -> Untrusted:
    return Untrusted(f"{_SOURCE_NAMES.get(source, str(source))} events are not modelled")


@dataclass(frozen=True)
class MirrorLimits:
    """Bounds on one page's mirror (memory, and time per event)."""

    max_nodes: int = 300_000
    max_ghosts: int = 100_000
    max_sheet_operations: int = 50_000
    max_style_groups_per_element: int = 64
    # Units of work (sibling-list scans, queue passes) one event may cost.
    max_work_per_event: int = 20_000_000


class WorkBudget:
    """Counts the work of one event; raises Untrusted past the limit (a
    hostile mutation of quadratic shape costs a bounded time, then stops)."""

    __slots__ = ("left",)

    def __init__(self, units: int) -> None:
        self.left = units

    def charge(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise Untrusted("an event costs more work than the mirror allows")
