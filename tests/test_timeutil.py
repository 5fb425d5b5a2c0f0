"""The one clock helper: integer milliseconds since the epoch, and their ISO form."""

from __future__ import annotations

import time

from replay_server.timeutil import iso_utc, now_ms


def test_now_ms_is_wall_clock_milliseconds() -> None:
    before = int(time.time() * 1000)
    now = now_ms()
    assert isinstance(now, int) and before - 1 <= now <= int(time.time() * 1000) + 1


def test_iso_utc_has_milliseconds_and_a_z() -> None:
    assert iso_utc(1_796_000_000_386) == "2026-11-30T00:53:20.386Z"
