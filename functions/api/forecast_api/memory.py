"""Hand the memory a large request freed back to the system, so a worker's size stays flat.

glibc's allocator keeps what a request frees in its heap and per-thread arenas for reuse, so without this an
all-stores forecast leaves a worker larger for good (docs/decisions/012-api-memory-large-requests.md).
``malloc_trim(0)`` returns the free pages of every arena. Where the C library is not glibc (no
``malloc_trim``), :func:`release_freed` does nothing.
"""

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()
AVAILABLE = _trim is not None
"""Whether the C library has ``malloc_trim`` (glibc: Linux, Lambda)."""


def release_freed() -> bool:
    """Return the allocator's free memory to the system; True if glibc released any."""
    return bool(_trim(0)) if _trim is not None else False
