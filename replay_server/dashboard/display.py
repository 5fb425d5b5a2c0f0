"""How the dashboard shows times, durations and links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit


def duration_display(ms: int) -> str:
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def started_display(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another host, a scheme,
    `//host`, backslashes, control characters) becomes `/`: no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value
