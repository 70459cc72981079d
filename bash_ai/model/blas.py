"""The thread count of the OpenBLAS under numpy, changed at run time (elsewhere: left alone).

The CLI loads numpy with one BLAS thread (``bash_ai.api.import_numpy_single_threaded``): decoding
is a chain of small products, and an answer's second core scores the pooled commands beside the
beams. Only the prompt's prefill is a large product with the second core idle; a process that
answers one request at a time (``bash-ai ask``, the shell helper) runs it on both cores
(``threads``). numpy's wheels bundle OpenBLAS under prefixed names; another BLAS (MKL, Accelerate,
a system library without these symbols) is simply not changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# (set, get) symbol names: numpy's bundled scipy-openblas (64-bit ints), then a plain OpenBLAS.
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


@functools.cache
def _controls() -> tuple[Any, Any] | None:
    """OpenBLAS's (set, get) thread-count functions from the library numpy loaded, if it has them."""
    import numpy as np

    base = Path(np.__file__).resolve().parent
    for folder in (base.parent / "numpy.libs", base / ".dylibs"):
        for path in sorted(folder.glob("*openblas*")) if folder.is_dir() else []:
            try:
                lib = ctypes.CDLL(str(path))
            except OSError:
                continue
            for set_name, get_name in _SYMBOLS:
                setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
                if setter is not None and getter is not None:
                    setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                    return setter, getter
    return None


def current() -> int | None:
    """OpenBLAS's thread count now, or None where it cannot be read."""
    found = _controls()
    return int(found[1]()) if found is not None else None


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` BLAS threads, then the count it had before.

    The count is the process's: the caller must be the only thread inside BLAS meanwhile (a prefill
    before the beams and the scoring thread start). ``count <= 1`` changes nothing.
    """
    found = _controls() if count > 1 else None
    if found is None:
        yield
        return
    setter, getter = found
    before = int(getter())
    setter(count)
    try:
        yield
    finally:
        setter(before)
