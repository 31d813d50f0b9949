"""kehu.core.memory: freed memory goes back to the system when asked (glibc only)."""

from __future__ import annotations

import pytest

from kehu.core import memory


def _resident_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status")


@pytest.mark.skipif(memory._trim() is None, reason="the C library has no malloc_trim")
def test_freed_memory_goes_back_to_the_system():
    # Blocks below glibc's mmap threshold come from the heap, which free() keeps; the last
    # one stays alive, so that the heap's top cannot simply shrink.
    blocks = [bytearray(b"x" * 60_000) for _ in range(4_000)]  # about 230 MiB, touched
    keep = blocks[-1]
    del blocks
    held = _resident_mib()
    memory.give_back()
    assert _resident_mib() < held - 150
    assert keep[0] == ord("x")
