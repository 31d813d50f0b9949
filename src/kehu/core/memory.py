"""Handing memory a long computation no longer uses back to the operating system.

glibc's allocator keeps freed memory for the process: after a step that held a few hundred
megabytes of temporary arrays (the value refresh reading fourteen million transactions),
the process stays that big, and the next step's arrays come on top of it. malloc_trim gives
the free pages back. Elsewhere (another C library, another system) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def give_back() -> None:
    """Return the memory freed so far to the operating system, where the allocator can."""
    trim = _trim()
    if trim is not None:
        trim(0)
