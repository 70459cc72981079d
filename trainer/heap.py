"""Keep freed memory in the process heap during training (glibc only).

A PyTorch step on CPU allocates and frees the same large activations every step (the logits of a
12M model at B=16, T=256 are 64 MB). glibc serves blocks that large with ``mmap`` and gives them
back with ``munmap`` on free, so every step faults the same pages in again and the kernel zeroes
them: measured on this project's 2-core machine, 2.6M minor page faults and 4.7 s of system time
in 18 steps of the ``small`` preset. With mmap off and the heap never trimmed, the same 18 steps
take 0.3M faults and 0.8 s of system time, and training runs ~15% faster (docs/benchmarks.md,
"Training throughput"); peak RSS stays within a few percent, since the step reuses what it freed.

``BASH_AI_KEEP_HEAP=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt(3) parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
NEVER_TRIM = 2**31 - 1


def keep_freed_memory() -> bool:
    """Serve every block from the heap and never return freed memory to the kernel; True when set.

    Affects this process's later allocations only; a no-op (False) off glibc or when disabled.
    """
    if os.environ.get("BASH_AI_KEEP_HEAP", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
