"""Wall-clock helpers. Times are integer milliseconds since the Unix epoch (UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_utc(ms: int) -> str:
    """ISO 8601 in UTC with millisecond precision: `2026-11-28T06:12:45.386Z`."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
