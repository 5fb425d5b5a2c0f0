"""The keyframe invariant in real Chromium, judged by rrweb's own Replayer:
replaying a keyframe and the events after it to a moment rebuilds the same DOM
(with the replayer's node ids, CSSOM, form state, scroll, focus, selection)
and the same pixels as replaying the recording from its start."""

from __future__ import annotations

import difflib
import gzip
import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from replay_server.chunks.keyframes import Mirror, synthesize_keyframe
from tests.chunks.keyframes.chromium_replay import ChromiumReplayer, chromium_replayer
from tests.chunks.keyframes.sessions import OPERATIONS, run_program

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
Event = dict[str, Any]


def recordings(virtual_dom: bool) -> list[tuple[str, list[Event]]]:
    """The fixtures, a recording of every kind and three random ones.

    Seeking with rrweb's virtual DOM loses rule changes of constructed sheets
    made after the first mutation it applies (it defers both to its flush and
    runs rule changes first, before the sheets exist), where a keyframe keeps
    them, as playing does. So that mode is judged on recordings without such
    changes; the real-DOM mode on all of them."""
    operations = [o for o in OPERATIONS if not (virtual_dom and o == "sheet_rule")]
    found = [
        (path.name, json.loads(gzip.decompress(path.read_bytes())))
        for path in sorted(FIXTURES.glob("*.json.gz"))
    ]
    every_kind = [(operation, 7 * i + 3) for i, operation in enumerate(operations * 2)]
    found.append(("every kind", run_program(every_kind)))
    for seed in (1, 2, 3):
        chooser = random.Random(seed)
        program = [(chooser.choice(operations), chooser.randrange(10_000)) for _ in range(40)]
        found.append((f"random {seed}", run_program(program)))
    return found


def keyframes(events: list[Event], count: int) -> list[tuple[int, list[Event]]]:
    """Keyframes after about `count` evenly spaced events: (index, events)."""
    mirror = Mirror()
    step = max(1, len(events) // count)
    out: list[tuple[int, list[Event]]] = []
    for index, event in enumerate(events):
        mirror.apply(event)
        if index % step == step // 2 or index == 1:
            keyframe = synthesize_keyframe(pickle.loads(pickle.dumps(mirror)), event["timestamp"])
            if keyframe is not None:
                out.append((index, keyframe))
    return out


def moments(events: list[Event], after: int) -> list[float]:
    """Moments strictly between two events (from event `after` on): the
    replayer's target is then unambiguous."""
    candidates = sorted({after, after + 1, (after + len(events)) // 2, len(events) - 1})
    out = []
    for index in candidates:
        if index >= len(events):
            continue
        at = events[index]["timestamp"] + 0.5
        if index + 1 == len(events) or events[index + 1]["timestamp"] > at:
            out.append(at)
    return out


async def compare(
    replayer: ChromiumReplayer, name: str, events: list[Event], failures: Path
) -> int:
    compared = 0
    for index, keyframe in keyframes(events, count=6):
        tail = events[index + 1 :]
        for until in moments(events, index):
            whole = await replayer.replay(events, until)
            quick = await replayer.replay(keyframe + tail, until)
            difference = "\n".join(difflib.unified_diff(whole.dom, quick.dom, lineterm=""))
            assert quick.dom == whole.dom, f"{name}: keyframe {index}, at {until}\n{difference}"
            if quick.screenshot != whole.screenshot:
                (failures / "from-start.png").write_bytes(whole.screenshot)
                (failures / "from-keyframe.png").write_bytes(quick.screenshot)
            assert quick.screenshot == whole.screenshot, f"{name}: pixels, keyframe {index}"
            compared += 1
    return compared


@pytest.mark.parametrize("virtual_dom", [True, False], ids=["seek-virtual-dom", "real-dom"])
async def test_replaying_from_a_keyframe_is_replaying_from_the_start(
    tmp_path: Path, virtual_dom: bool
) -> None:
    total = 0
    async with chromium_replayer() as replayer:
        replayer.virtual_dom = virtual_dom
        for name, events in recordings(virtual_dom):
            compared = await compare(replayer, name, events, tmp_path)
            assert compared >= 6, name
            total += compared
    print(f"compared {total} replays from a keyframe with replays from the start")
