"""The API hands the memory a large request freed back to the system (forecast_api.memory)."""

from pathlib import Path

import numpy as np
import pytest

from forecast_api.memory import AVAILABLE, release_freed


def rss_mb() -> float:
    """This process's resident memory, MB (Linux /proc)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.skipif(not AVAILABLE, reason="malloc_trim is glibc's")
def test_freed_heap_memory_is_returned_to_the_system() -> None:
    blocks = [np.ones(12_000) for _ in range(1_000)]  # 96 KB each: under glibc's mmap threshold, on the heap
    pinned = np.ones(12_000)  # allocated after them, so the heap's top cannot simply shrink
    before_free = rss_mb()
    del blocks
    kept = rss_mb()
    assert kept > before_free - 20, "glibc returned the blocks on its own: the test proves nothing here"
    assert release_freed()
    assert rss_mb() < kept - 60
    assert pinned.sum() == 12_000
