"""Prepared weights: the numpy runtime's float32 matrices, kept in the user's cache and
memory-mapped at the next start.

Building a ``NumpyGPT`` from a stored model reads the safetensors file, dequantizes int8 (or
widens float16) and folds the norms and scales into the matrices: ~60 ms for the bundled 11M model,
twice per cold answer (the answering model and the structure model). The result depends only on
the weights file and the config, so the first start writes it to
``cache_dir()/prepared/<key>.f32`` and every later one maps that file instead (~4 ms with the first
pass over the weights; docs/benchmarks.md, "CLI latency").

The key hashes the weights file's identity (resolved path, size, inode, modification and change
times), the config, this format's version and the machine's byte order, so a file written again,
even in place, misses. A cache file that is missing, truncated, foreign or unreadable is rebuilt;
a cache that cannot be written (read-only home, full disk) only costs the old load time. The cache
keeps the ``KEEP`` newest files.

Layout: ``MAGIC``, a little-endian uint64 header length, the header (JSON: key, arrays as
``[name, offset, shape]``, total size), then the arrays, each 64-byte aligned.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bash_ai.config import ModelConfig
    from bash_ai.model.numpy_gpt import NumpyGPT

MAGIC = b"bash-ai-prepared"
VERSION = 1  # bump when prepare_weights' folding or this layout changes
ALIGN = 64
KEEP = 6  # prepared files kept (the bundled model is two: ~100 MB)
SUFFIX = ".f32"


def prepared_dir() -> Path:
    from bash_ai.paths import cache_dir

    return cache_dir() / "prepared"


def cache_key(weights_file: Path, config: ModelConfig) -> str:
    """The identity of a prepared file: ``weights_file`` as it is on disk now, and ``config``."""
    path = Path(weights_file).resolve()
    st = path.stat()
    parts = [
        f"v{VERSION}",
        sys.byteorder,
        str(path),
        str(st.st_size),
        str(st.st_ino),
        str(st.st_mtime_ns),
        str(st.st_ctime_ns),
        json.dumps(config.to_dict(), sort_keys=True),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def load_prepared(weights_file: Path, config: ModelConfig, build: Callable[[], NumpyGPT]) -> NumpyGPT:
    """The runtime for ``weights_file``: mapped from the cache when a prepared copy is there, else
    ``build()`` (which reads and checks the file), written to the cache for the next start."""
    from bash_ai.model.numpy_gpt import NumpyGPT

    key = cache_key(weights_file, config)
    path = prepared_dir() / f"{key[:32]}{SUFFIX}"
    arrays = read_prepared(path, key)
    if arrays is not None:
        return NumpyGPT.from_prepared(config, arrays)
    model = build()
    prepared = model.prepared_arrays()
    if prepared is not None:
        with contextlib.suppress(OSError):  # a cache we cannot write only costs time
            write_prepared(path, key, prepared)
            _prune(path.parent, keep=path)
    return model


def write_prepared(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` (float32) under ``key``, atomically."""
    from bash_ai.io import atomic_open

    offsets: list[int] = []
    offset = 0
    for array in arrays.values():
        offsets.append(offset)
        offset += _aligned(array.size * 4)
    table = [[name, at, list(array.shape)] for (name, array), at in zip(arrays.items(), offsets, strict=True)]
    header = json.dumps({"key": key, "arrays": table, "size": offset}).encode("utf-8")
    start = _aligned(len(MAGIC) + 8 + len(header))
    with atomic_open(path, "wb") as handle:
        handle.write(MAGIC + struct.pack("<Q", len(header)) + header)
        handle.write(b"\0" * (start - handle.tell()))
        for at, array in zip(offsets, arrays.values(), strict=True):
            handle.write(b"\0" * (start + at - handle.tell()))
            handle.write(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        handle.write(b"\0" * (start + offset - handle.tell()))


def read_prepared(path: Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays of the prepared file at ``path``, read-only views of one memory map; None when
    the file is missing, was written for another key, or is not whole."""
    try:
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                return None
            (length,) = struct.unpack("<Q", handle.read(8))
            size = os.fstat(handle.fileno()).st_size
            if length > size:
                return None
            header = json.loads(handle.read(length))
        if header.get("key") != key:
            return None
        start = _aligned(len(MAGIC) + 8 + length)
        total = int(header["size"])
        if size != start + total or total % 4:
            return None
        with open(path, "rb") as handle:  # the map outlives the handle; the arrays keep it alive
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        flat = np.frombuffer(mapped, dtype=np.float32, count=total // 4, offset=start)  # read-only
        arrays = {}
        for name, at, shape in header["arrays"]:
            count = int(np.prod(shape))
            if at % 4 or at + count * 4 > total:
                return None
            arrays[str(name)] = flat[at // 4 : at // 4 + count].reshape(shape)
        return arrays
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _prune(directory: Path, keep: Path) -> None:
    """Delete all but the ``KEEP`` newest prepared files (never ``keep``, just written)."""
    files = sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in [p for p in files if p != keep][KEEP - 1 :]:
        with contextlib.suppress(OSError):
            old.unlink()
