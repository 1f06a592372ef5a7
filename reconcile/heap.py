"""Handing memory freed by a stage back to the operating system before the next stage grows.

A run reads its run log (the record of a first run lists every page of the workspace: megabytes
on one line) before it reads Notion, so that the two never peak together. CPython frees the log's
objects, but glibc's allocator keeps large freed blocks in the process's heap for reuse, and
Python's small-object arenas, where a workspace's pages then live, cannot reuse them: without a
trim the two still add up in the process's peak RSS (a 12,000-page no-change run: +17 MB).
`malloc_trim(0)` returns the free pages of every heap to the system. Elsewhere than glibc there is
nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

__all__ = ["keep_large_blocks_apart", "release_freed_memory"]

# mallopt's parameter number for M_MMAP_THRESHOLD (malloc.h), and the threshold this module sets.
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 64 * 1024


@cache
def _libc_function(name: str) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols: the C library it runs on, found without ldconfig's subprocess.
        function: Callable[..., int] = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim or mallopt
        return None
    return function


def keep_large_blocks_apart() -> bool:
    """Give every block of 64 KB or more (a Notion answer of 100 pages, a source's answer) its own
    mapping, returned to the system when freed. glibc otherwise raises that threshold to the
    largest block freed so far, and later large blocks land in the heap, where a freed one cannot
    be returned while anything lives above it (a 12,000-page run: 2 to 6 MB of peak RSS)."""
    mallopt = _libc_function("mallopt")
    return mallopt is not None and bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK))


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system; whether there was a way to."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True
