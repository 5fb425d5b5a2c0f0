"""Behaviour metrics over recorded event fixtures: clicks, inputs, rage and
dead clicks, errors and active time, also across chunk boundaries."""

from __future__ import annotations

from typing import Any

from replay_server.enrich.behaviour import (
    ChunkInsights,
    InsightCarry,
    analyse_pages,
)
from tests.rrweb_events import mouse_move, mutation_add_item, page_events

T0 = 1_700_000_000_000


def click(ts: int, x: int = 100, y: int = 200) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": 4, "x": x, "y": y}}


def focus(ts: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 5, "id": 4}}


def text_input(ts: int) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 5, "id": 7, "text": "***", "isChecked": False},
    }


def error(ts: int, message: str = "boom") -> dict[str, Any]:
    return {
        "type": 5,
        "timestamp": ts,
        "data": {"tag": "error", "payload": {"message": message, "source": "app.js:1:2"}},
    }


def run(*chunks: list[dict[str, Any]]) -> ChunkInsights:
    carry = InsightCarry()
    total = ChunkInsights()
    for events in chunks:
        total.add(analyse_pages(carry, [(0, events)]))  # sorts by timestamp
    return total


def test_three_close_clicks_within_a_second_are_one_rage_click() -> None:
    assert run([click(T0), click(T0 + 300, 110), click(T0 + 600, 95, 210)]).rage_clicks == 1
    # a burst counts once however long it lasts
    burst = [click(T0 + 150 * i) for i in range(8)]
    assert run(burst).rage_clicks == 1
    # two bursts separated by a pause count twice
    assert run(burst + [click(T0 + 5000 + 100 * i) for i in range(3)]).rage_clicks == 2


def test_spread_out_or_slow_clicks_are_not_rage_clicks() -> None:
    far = [click(T0, 0, 0), click(T0 + 200, 100, 0), click(T0 + 400, 200, 0)]
    assert run(far).rage_clicks == 0
    slow = [click(T0), click(T0 + 600), click(T0 + 1200)]
    assert run(slow).rage_clicks == 0
    two = [click(T0), click(T0 + 100)]
    assert run(two).rage_clicks == 0


def test_rage_click_spanning_two_chunks_is_found() -> None:
    result = run([click(T0), click(T0 + 200)], [click(T0 + 400)])
    assert result.rage_clicks == 1 and result.clicks == 3


def test_dead_clicks() -> None:
    # answered by a DOM mutation within a second: alive
    answered = [click(T0), mutation_add_item(T0 + 500, 50, "x"), mouse_move(T0 + 3000)]
    assert run(answered).dead_clicks == 0
    # nothing but mouse moves for more than a second: dead
    assert run([click(T0), mouse_move(T0 + 400), mouse_move(T0 + 1500)]).dead_clicks == 1
    # a mutation that comes too late does not save it
    late = [click(T0), mutation_add_item(T0 + 1500, 50, "x")]
    assert run(late).dead_clicks == 1
    # focus or input counts as a reaction (clicking into a field)
    assert run([click(T0), focus(T0 + 10), mouse_move(T0 + 2000)]).dead_clicks == 0
    assert run([click(T0), text_input(T0 + 300), mouse_move(T0 + 2000)]).dead_clicks == 0
    # the end of the recording proves nothing
    assert run([mouse_move(T0 - 10), click(T0)]).dead_clicks == 0


def test_dead_click_decided_in_the_next_chunk() -> None:
    answered = [mutation_add_item(T0 + 300, 50, "x"), mouse_move(T0 + 4000)]
    assert run([click(T0)], answered).dead_clicks == 0
    assert run([click(T0)], [mouse_move(T0 + 4000)]).dead_clicks == 1


def test_navigation_within_a_second_answers_a_click() -> None:
    carry = InsightCarry()
    pages = [
        (0, [*page_events(T0 - 5000), click(T0)]),
        (1, page_events(T0 + 700)),  # the next page's Meta + FullSnapshot
    ]
    assert analyse_pages(carry, pages).dead_clicks == 0
    carry = InsightCarry()
    slow = [(0, [*page_events(T0 - 5000), click(T0)]), (1, page_events(T0 + 2500))]
    assert analyse_pages(carry, slow).dead_clicks == 1


def test_errors_inputs_and_clicks_are_counted() -> None:
    events = [
        error(T0, "TypeError: x is undefined"),
        {"type": 5, "timestamp": T0 + 1, "data": {"tag": "other", "payload": {}}},
        error(T0 + 2, "Unhandled rejection"),
        text_input(T0 + 3),
        text_input(T0 + 4),
        click(T0 + 5),
    ]
    result = run(events)
    assert (result.errors, result.inputs, result.clicks) == (2, 2, 1)


def test_active_time_counts_gaps_up_to_five_seconds() -> None:
    moves = [mouse_move(T0 + ms) for ms in (0, 1000, 2000, 10_000, 11_000)]
    assert run(moves).active_ms == 3000
    # mutations alone (an animated page nobody touches) are not activity
    assert run([mutation_add_item(T0 + i * 100, 50 + 2 * i, "x") for i in range(20)]).active_ms == 0
    # across chunks too
    assert run([mouse_move(T0)], [mouse_move(T0 + 2500)]).active_ms == 2500


def test_malformed_events_are_ignored() -> None:
    junk: list[dict[str, Any]] = [
        {"type": 3, "timestamp": T0, "data": None},
        {"type": 3, "timestamp": "soon", "data": {"source": 2, "type": 2, "x": "a", "y": None}},
        {"type": 5, "timestamp": T0 + 1},
    ]
    result = run(junk)
    assert result.clicks == 1 and result.errors == 0
