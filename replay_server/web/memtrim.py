"""Giving freed memory back to the system. glibc keeps the freed pieces of large
frames (read in many small chunks) in its heap: 100 unfinished 4 MiB frames
left ~33 MB of RSS behind after they were dropped. malloc_trim(0) releases
free pages anywhere in the heap (measured in tests/web/test_conn_guard.py)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def malloc_trimmer() -> Callable[[], None] | None:
    """malloc_trim(0) of the C library, or None where there is none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def run() -> None:
        trim(0)

    return run
