"""Page-view facts for the insight rollups, from rrweb events: clicks in page
coordinates with their element, dead and error clicks by element (also when
decided in a later cut), deepest scroll, page height, viewport, time span;
hostile values are clamped or ignored."""

from __future__ import annotations

from typing import Any

from replay_server.enrich.behaviour import InsightCarry, analyse_events, analyse_pages
from replay_server.enrich.pagefacts import MAX_PAGE_PX


def snapshot(ts: int, top: int = 0) -> dict[str, Any]:
    button = {"type": 2, "id": 5, "tagName": "button", "attributes": {"id": "go"}, "childNodes": []}
    body = {"type": 2, "id": 4, "tagName": "body", "attributes": {}, "childNodes": [button]}
    html = {"type": 2, "id": 3, "tagName": "html", "attributes": {}, "childNodes": [body]}
    node = {"type": 0, "id": 1, "childNodes": [html]}
    return {
        "type": 2,
        "timestamp": ts,
        "data": {"node": node, "initialOffset": {"top": top, "left": 0}},
    }


def meta(ts: int, w: Any = 1200, h: Any = 800) -> dict[str, Any]:
    return {
        "type": 4,
        "timestamp": ts,
        "data": {"href": "https://x.test/", "width": w, "height": h},
    }


def click(ts: int, x: Any = 10, y: Any = 20, node: Any = 5) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 2, "type": 2, "id": node, "x": x, "y": y},
    }


def scroll(ts: int, y: Any, node: int = 1) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 3, "id": node, "x": 0, "y": y}}


def custom(ts: int, tag: str, payload: Any) -> dict[str, Any]:
    return {"type": 5, "timestamp": ts, "data": {"tag": tag, "payload": payload}}


def move(ts: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 1, "positions": []}}


def test_clicks_are_placed_on_the_page_with_their_element() -> None:
    carry = InsightCarry()
    events = [
        meta(1000),
        snapshot(1001, top=300),
        click(1100, 10, 20),
        scroll(1200, 900),
        click(1300, 15, 25),
        custom(1310, "page-size", {"height": 4000}),
        move(9000),
    ]
    facts = analyse_events(carry, events, page=0).pages[0]
    # clicks, rage, and the sums of page x and y: 320 = 20 + the snapshot's initial offset
    assert facts.elements == {"button#go": [2, 0, 10 + 15, 320 + 925]}
    assert facts.cells == {(0, 20): 1, (0, 57): 1}  # 16 px cells of (10, 320) and (15, 925)
    assert facts.max_bottom == 900 + 800 and facts.page_height == 4000
    assert facts.viewport == (1200, 800)
    assert (facts.first_ts, facts.last_ts) == (1000, 9000)
    assert facts.dead == {"button#go": 2}  # nothing reacted within a second


def test_an_element_scrolling_inside_the_page_is_not_page_scroll() -> None:
    facts = analyse_events(InsightCarry(), [meta(1), snapshot(2), scroll(3, 5000, node=5)], 0)
    assert facts.pages[0].max_bottom == 800


def test_a_dead_click_decided_in_the_next_cut_keeps_its_page_and_element() -> None:
    carry = InsightCarry()
    first = analyse_pages(carry, [(0, [meta(1000), snapshot(1001), click(1500)])])
    assert first.pages[0].dead == {}
    # the next cut is of page 1 (the visitor navigated without the page reacting first)
    second = analyse_pages(carry, [(1, [meta(3000), snapshot(3001)])])
    assert second.dead_clicks == 1 and second.pages[0].dead == {"button#go": 1}
    assert second.pages[1].clicks == 0


def test_an_error_within_a_second_makes_the_last_click_an_error_click_once() -> None:
    carry = InsightCarry()
    events = [
        meta(1),
        snapshot(2),
        click(1000),
        custom(1500, "error", {"message": "x"}),
        custom(1600, "error", {"message": "y"}),
        click(5000),
        custom(7000, "error", {}),
    ]
    result = analyse_events(carry, events, 0)
    assert result.errors == 3
    assert result.pages[0].errors == {"button#go": 1}


def test_hostile_values_are_clamped_or_ignored() -> None:
    carry = InsightCarry()
    events = [
        meta(1, w="wide", h=-5),
        snapshot(2),
        click(3, x=float("nan"), y=10**12),
        scroll(4, -50),
        custom(5, "page-size", {"height": 10**9}),
        custom(6, "page-size", {"height": "tall"}),
        custom(7, "page-size", [1, 2]),
        click(8, node="5"),
    ]
    facts = analyse_events(carry, events, 0).pages[0]
    assert facts.viewport is None and facts.page_height == 0
    # (0, MAX_PAGE_PX) and (10, 20); a node id that is not an int has no selector
    assert facts.elements == {"button#go": [1, 0, 0, MAX_PAGE_PX], "": [1, 0, 10, 20]}
    assert facts.max_bottom == 0


def test_without_facts_only_the_counts_are_kept() -> None:
    result = analyse_pages(InsightCarry(), [(0, [meta(1), snapshot(2), click(3)])], facts=False)
    assert result.clicks == 1 and result.pages == {}


def test_the_recorders_scroll_at_the_click_beats_a_late_scroll_event() -> None:
    """rrweb's throttled scroll event may come after the click it preceded."""
    carry = InsightCarry()
    late = click(1100, 10, 20)
    late["data"].update(scrollX=0, scrollY=1500)
    events = [meta(1000), snapshot(1001), late, scroll(1150, 1500), click(1200, 10, 20)]
    facts = analyse_events(carry, events, 0).pages[0]
    assert facts.elements == {"button#go": [2, 0, 20, 3040]}  # both at (10, 1520)
    assert facts.max_bottom == 1500 + 800
    bogus = click(1300)
    bogus["data"].update(scrollX=True, scrollY="far")
    plain = analyse_events(InsightCarry(), [meta(1), snapshot(2), bogus], 0).pages[0]
    assert plain.elements == {"button#go": [1, 0, 10, 20]}
