"""Giving freed memory back (web/memtrim.py): on glibc, the trimmer returns
the free pages of the heap that freeing alone keeps (measured in a child
process, whose memory is its own)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from replay_server.web.memtrim import malloc_trimmer

CHILD = """
import gc, os
from replay_server.web.memtrim import malloc_trimmer

def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

trim = malloc_trimmer()
pieces = [bytes(1000) + bytes([i % 256]) for i in range(60_000)]  # ~60 MB from malloc
pin = bytes(1000) + b"pin"  # allocated last: the heap's top stays in use
del pieces
gc.collect()
freed = rss()
trim()
print(freed, rss())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trimming_returns_freed_heap_pages() -> None:
    assert malloc_trimmer() is not None
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    freed, trimmed = (int(v) for v in out.split())
    assert freed - trimmed > 20 * 1024 * 1024, (freed, trimmed)
