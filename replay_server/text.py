"""Cleaning untrusted text before it is stored: hello fields (WebSocket msgpack
and the JSON fallback) and request headers such as User-Agent.

A Python str can hold what no database can store: lone surrogates (JSON's
"\\ud800", or a header byte that is not UTF-8, which aiohttp keeps as
surrogateescape "\\udcff") fail every UTF-8 encoder, and PostgreSQL refuses NUL
in text. Other control characters break logs and terminals and mean nothing in
a title, URL or User-Agent. So: a valid surrogate pair becomes its character,
any other surrogate U+FFFD, control characters are dropped, and the result is
cut to a length (in code points; with no surrogates left a cut cannot split a
pair).
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
MAX_HEADER = 512  # the longest header value stored (User-Agent)

# C0 controls (NUL included), DEL and C1 controls; tab and newline separately.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_BAD_LINE = re.compile(f"[{_CONTROLS}\t\n\ud800-\udfff]")
_BAD_TEXT = re.compile(f"[{_CONTROLS}\ud800-\udfff]")
_DROP_LINE = re.compile(f"[{_CONTROLS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str, max_len: int, *, multiline: bool = False) -> str:
    """`value` safe to store: surrogates fixed (above), control characters
    dropped (tab and newline turn into a space unless `multiline`), at most
    `max_len` code points."""
    bad = _BAD_TEXT if multiline else _BAD_LINE
    if bad.search(value) is None:  # the common case: nothing to do
        return value[:max_len]
    # Cut first (generously) so a huge value is not cleaned in full.
    value = value[: max_len * 2]
    if _SURROGATE.search(value) is not None:
        value = _fix_surrogates(value)
    if not multiline:
        value = value.replace("\t", " ").replace("\n", " ")
    return _DROP_LINE.sub("", value)[:max_len]


def cut_utf8(value: str, max_bytes: int) -> str:
    """At most `max_bytes` of UTF-8, cut at a character boundary."""
    if len(value) * 4 <= max_bytes:  # the common case: fits whatever it holds
        return value
    return value.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def clean_header(value: str | None, max_len: int = MAX_HEADER) -> str:
    """A request header's value as stored ("" when absent)."""
    return clean_text(value or "", max_len)


def _fix_surrogates(value: str) -> str:
    # UTF-16 round trip: a high surrogate followed by a low one is one
    # character; anything else does not decode and becomes U+FFFD.
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
