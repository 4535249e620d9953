"""Keep freed memory in the serving process instead of handing it back to the kernel after every question.

A question over a large index allocates a few megabytes of temporary arrays (at 100k papers, BM25's ~400k
postings and their scores). With glibc's default thresholds each such block is returned to the kernel when it is
freed, and the next question pays fresh page faults for it: BM25 took 5.5 ms per question at 100k papers, 1.5 ms
with the thresholds raised (docs/BENCHMARKS.md, thirteenth pass). Peak memory does not change: the same blocks are
reused rather than mapped again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # blocks up to this size come from the heap: any one question's arrays
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024  # free memory kept at the heap's top before it is given back

_applied: bool | None = None


def reuse_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; whether they are raised (False where the C
    library is not glibc, e.g. on macOS, where nothing needs doing)."""
    global _applied
    if _applied is None:
        _applied = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):
                return False
            _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and \
                bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return _applied
