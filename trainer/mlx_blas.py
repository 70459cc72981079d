"""An optimised CBLAS for MLX on Linux, loaded before ``mlx.core`` (by default when one is installed).

MLX's CPU matmul calls ``cblas_sgemm``, and the Linux ``mlx[cpu]`` wheel bundles netlib's
reference BLAS (``mlx_cpu.libs/libblas-*.so.3.10.0``): unblocked, single-threaded, ~5 GFLOP/s on
this project's benchmark machine against ~130 for OpenBLAS on one core (docs/benchmarks.md). A
library dlopen'ed with ``RTLD_GLOBAL`` before ``mlx.core`` is imported is searched first when
libmlx's symbols are bound, exactly as ``LD_PRELOAD`` would be; after the import it is too late.

The math is the same sgemm; only float rounding differs (MLX/PyTorch parity stays within 1e-4).
``BASH_AI_MLX_BLAS`` chooses: unset uses an installed OpenBLAS (Debian/Ubuntu:
``apt-get install libopenblas0-pthread``) and says which BLAS is in use; ``auto`` requires one;
a path names the library; ``off`` keeps MLX's own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

from bash_ai.errors import UsageError

ENV = "BASH_AI_MLX_BLAS"

# Debian/Ubuntu multiarch locations of OpenBLAS (pthread build first: it uses every core).
_CANDIDATES = tuple(
    f"/usr/lib/{arch}-linux-gnu/{sub}libopenblas.so.0"
    for arch in ("x86_64", "aarch64")
    for sub in ("openblas-pthread/", "openblas-openmp/", "")
)

_loaded: str | None = None
OFF = frozenset({"off", "none", "0", "no", "reference"})


def find_openblas() -> str | None:
    for candidate in _CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    name = ctypes.util.find_library("openblas")
    return name or None


def use_fast_blas(spec: str | None = None, threads: int | None = None) -> str:
    """Load the CBLAS named by ``spec`` (default: ``$BASH_AI_MLX_BLAS``) ahead of MLX's own.

    Returns a one-line note for the progress output ('' when there is nothing to say).
    """
    global _loaded
    spec = os.environ.get(ENV, "") if spec is None else spec
    spec = spec.strip()
    if spec.lower() in OFF:
        return "" if _loaded else f"MLX matmuls use its bundled reference BLAS ({ENV}={spec})"
    # Unset: an installed OpenBLAS is used by default; none installed leaves MLX's own (with a hint).
    optional = not spec
    if _loaded is None and (spec or sys.platform.startswith("linux")):
        if "mlx.core" in sys.modules:
            return f"{ENV} ignored: MLX was imported before the BLAS could be put in front of it" if spec else ""
        path = find_openblas() if spec in ("", "auto") else spec
        if path is None and optional:
            return (
                "MLX on Linux ships the reference BLAS (slow); install OpenBLAS "
                "(apt-get install libopenblas0-pthread) and it is used automatically"
            )
        if path is None:
            raise UsageError(f"{ENV}=auto: no OpenBLAS found (apt-get install libopenblas0-pthread)")
        if spec not in ("", "auto") and not Path(path).is_file():
            raise UsageError(f"{ENV}: {path} does not exist")
        try:
            library = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise UsageError(f"{ENV}: cannot load {path} ({exc})") from None
        if not hasattr(library, "cblas_sgemm"):
            raise UsageError(f"{ENV}: {path} has no cblas_sgemm")
        if threads and hasattr(library, "openblas_set_num_threads"):
            library.openblas_set_num_threads(ctypes.c_int(threads))
        _loaded = path
    if _loaded is not None:
        return f"MLX matmuls use {_loaded}"
    return ""
