"""Atomic writes: a temp file in the same directory, fsync, then rename.

A crash at any point leaves either the old file or the new one, never a torn mix.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 would hide shared files from other users
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def atomic_replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Swap a fully written directory into place (old one removed only after the swap)."""
    import shutil

    final_dir = Path(final_dir)
    if final_dir.exists():
        old = final_dir.with_name(f".{final_dir.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(final_dir, old)
        os.replace(tmp_dir, final_dir)
        shutil.rmtree(old)
    else:
        os.replace(tmp_dir, final_dir)


@contextlib.contextmanager
def staged_dir(final_dir: Path, prefix: str | None = None, where: Path | None = None) -> Iterator[Path]:
    """A new, empty directory to fill; when the block ends without an error it replaces ``final_dir``
    in one rename (``atomic_replace_dir``), and when it raises it is removed and ``final_dir`` is left
    as it was. It is made in ``where`` (default: beside ``final_dir``, on the same file system), with
    the mode the user's umask gives a new directory."""
    import shutil

    final_dir = Path(final_dir)
    root = Path(where) if where is not None else final_dir.parent
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix or f".{final_dir.name}.", suffix=".tmp", dir=root))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it 0700: as any directory the user makes
        yield tmp
        atomic_replace_dir(tmp, final_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The file's SHA-256 (hex), read in ``chunk``-byte blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
