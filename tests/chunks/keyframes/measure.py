"""Figures for the mirror on the 55 MB-style session (issue 17): a table of 100
rows updated every second for an hour, one FullSnapshot at load.

    .venv/bin/python -m tests.chunks.keyframes.measure [seconds]

Prints the session's size (JSON), the mirror's events/s and MB/s, the time to
synthesize a keyframe and its size, and the pickled mirror's size.
"""

from __future__ import annotations

import json
import pickle
import sys
import time

from replay_server.chunks.keyframes import Mirror, synthesize_keyframe
from tests.chunks.keyframes.sessions import dashboard


def main(seconds: int) -> None:
    events = dashboard(rows=100, seconds=seconds)
    size = sum(len(json.dumps(e)) for e in events)
    mirror = Mirror()
    started = time.process_time()
    mirror.apply_all(events)
    elapsed = time.process_time() - started
    assert mirror.trusted, mirror.untrusted_reason
    timings = []
    keyframe: list[dict[str, object]] | None = None
    for _ in range(20):
        begin = time.perf_counter()
        keyframe = synthesize_keyframe(mirror, events[-1]["timestamp"])
        timings.append(time.perf_counter() - begin)
    assert keyframe is not None
    timings.sort()
    state = pickle.dumps(mirror)
    begin = time.perf_counter()
    pickle.loads(state)
    unpickle = time.perf_counter() - begin
    print(f"session: {len(events):,} events, {size / 1e6:.1f} MB of JSON, {seconds} s")
    print(
        f"mirror: {elapsed:.2f} s CPU, {len(events) / elapsed:,.0f} events/s, "
        f"{size / 1e6 / elapsed:.1f} MB/s of JSON"
    )
    print(
        f"keyframe: median {timings[len(timings) // 2] * 1000:.2f} ms to synthesize, "
        f"{len(json.dumps(keyframe)) / 1e3:.1f} KB of JSON, {len(keyframe)} events"
    )
    print(f"pickled mirror: {len(state) / 1e3:.1f} KB, {unpickle * 1000:.2f} ms to unpickle")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3600)
