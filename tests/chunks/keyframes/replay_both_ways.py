"""The keyframe invariant, checked on the mirror: from every keyframe, the
events after it lead to the state the events from the page's start lead to."""

from __future__ import annotations

import json
import pickle
from typing import Any

from replay_server.chunks.keyframes import Mirror, synthesize_keyframe


def state(mirror: Mirror) -> str | None:
    """The mirror's whole state as a keyframe would carry it (node ids
    included), or None when untrusted."""
    keyframe = synthesize_keyframe(mirror, 0)
    return None if keyframe is None else json.dumps(keyframe, sort_keys=True)


def check_every_keyframe(events: list[dict[str, Any]]) -> int:
    """For each k: keyframe(events[:k]) + events[k:t] gives the state of
    events[:t], for every t up to where the mirror stops trusting the page.
    Returns how many (k, t) pairs were compared."""
    states: list[str | None] = []
    running = Mirror()
    mirrors: list[bytes] = []
    for event in events:
        running.apply(event)
        states.append(state(running))
        mirrors.append(pickle.dumps(running))  # the mirror crosses processes so
    compared = 0
    for k in range(len(events)):
        at_k = pickle.loads(mirrors[k])
        keyframe = synthesize_keyframe(at_k, events[k]["timestamp"])
        if keyframe is None:
            continue
        assert all(e["timestamp"] == events[k]["timestamp"] for e in keyframe)
        assert [e["type"] for e in keyframe[:2]] == [4, 2]
        replay = Mirror()
        replay.apply_all(keyframe)
        assert state(replay) == states[k], f"keyframe at {k} is not the state at {k}"
        compared += 1
        for t in range(k + 1, len(events)):
            if states[t] is None:
                break  # the keyframe holds until the page is untrusted
            replay.apply(events[t])
            assert state(replay) == states[t], f"from keyframe {k} to event {t}"
            compared += 1
    return compared
