"""The serving process keeps freed memory for the next question (`rag/allocator.py`)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT

# Minor page faults while 50 arrays of 8 MiB are allocated and freed, one after the other.
FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "raised":
    from rag.allocator import reuse_freed_memory
    assert reuse_freed_memory() and reuse_freed_memory()
np.ones(1 << 20).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    np.ones(1 << 20).sum()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", FAULTS, mode], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")
def test_freed_blocks_are_reused_instead_of_mapped_again():
    # By default each freed 8 MiB block goes back to the kernel and the next one faults its pages in again.
    assert faults("default") >= 50
    assert faults("raised") < 10


def test_a_serving_index_raises_the_thresholds(built_settings):
    from rag import allocator
    from rag.retrieval import PaperIndex

    PaperIndex(built_settings)
    assert allocator._applied is (platform.libc_ver()[0] == "glibc")
