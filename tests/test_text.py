"""Cleaning untrusted text: whatever comes in, what comes out encodes as UTF-8
(SQLite, asyncpg), holds no NUL (PostgreSQL) or other control character, and
fits its limit; clean text passes unchanged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from replay_server.text import REPLACEMENT, clean_header, clean_text, cut_utf8

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)


def _has_controls(value: str, allowed: str = "") -> bool:
    return any((ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F) and ch not in allowed for ch in value)


@given(ANY_TEXT, st.integers(min_value=0, max_value=400), st.booleans())
def test_anything_becomes_storable_text(value: str, max_len: int, multiline: bool) -> None:
    cleaned = clean_text(value, max_len, multiline=multiline)
    cleaned.encode("utf-8")  # no surrogate is left
    assert len(cleaned) <= max_len
    assert not _has_controls(cleaned, "\t\n" if multiline else "")
    assert clean_text(cleaned, max_len, multiline=multiline) == cleaned


@given(st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs", "Cc")), max_size=50))
def test_clean_text_is_unchanged(value: str) -> None:
    assert clean_text(value, 50) == value


def test_surrogates() -> None:
    assert clean_text("a\udcffb", 10) == f"a{REPLACEMENT}b"  # a header's non-UTF-8 byte
    assert clean_text("\ud83d\ude00!", 10) == "\U0001f600!"  # a pair is its character
    assert clean_text("\ude00\ud83d", 10) == REPLACEMENT * 2  # reversed: two lone ones
    assert clean_text("ab\ud83d", 10) == f"ab{REPLACEMENT}"


def test_controls() -> None:
    assert clean_text("a\x00b\x07c\x7f\x85d\re", 20) == "abcde"
    assert clean_text("line\tone\nline two", 20) == "line one line two"
    assert clean_text("line\tone\nline two", 20, multiline=True) == "line\tone\nline two"


def test_limit_counts_what_is_kept() -> None:
    assert clean_text("x" * 10, 4) == "xxxx"
    assert clean_text("\x00" * 3 + "abcdef", 4) == "abcd"
    assert clean_text("\U0001f600" * 5, 3) == "\U0001f600" * 3


def test_header() -> None:
    assert clean_header(None) == ""
    assert clean_header("Mozilla/5.0 \udcff") == f"Mozilla/5.0 {REPLACEMENT}"
    assert len(clean_header("a" * 5000)) == 512


def test_cut_utf8_keeps_whole_characters_within_the_bytes() -> None:
    assert cut_utf8("abc", 2) == "ab"
    assert cut_utf8("/" + "é" * 10, 6) == "/éé"  # 5 bytes: the third é would not fit whole
    assert cut_utf8("😀" * 1000, 2000).encode() == ("😀" * 500).encode()
    short = "x" * 100
    assert cut_utf8(short, 2000) is short
