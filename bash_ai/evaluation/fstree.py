"""Host-side walks of a sandbox's work dir, safe against what the sandboxed command left there.

A command may plant symlinks to host directories (``ln -s / evil``), take permissions away from
its own directories, or build a tree thousands of levels deep. Every walk here therefore works
relative to directory file descriptors opened with ``O_NOFOLLOW`` (a link is never followed, not
even by a path lookup), never recurses in Python, holds at most a few descriptors at once, and
goes at most ``MAX_DEPTH`` levels down (the snapshot says so below that; removal moves deeper
directories up to the top before emptying them).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

MAX_DEPTH = 64
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)
_HASH_CHUNK = 1 << 20

Parts = tuple[str, ...]


def _open_dir(root_fd: int, parts: Parts) -> int:
    """A new descriptor for ``root/parts...``, each component opened without following a link."""
    fd = os.dup(root_fd)
    for name in parts:
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def _entries(root_fd: int) -> Iterator[tuple[int, Parts, os.DirEntry[str], os.stat_result]]:
    """Every entry under the root, parents before children: ``(parent_fd, parts, entry, lstat)``.

    ``parent_fd`` is open while the entry is handled. Directories at ``MAX_DEPTH`` are listed
    but not entered; an unreadable directory is listed and skipped.
    """
    stack: list[Parts] = [()]
    while stack:
        parts = stack.pop()
        try:
            fd = _open_dir(root_fd, parts)
        except OSError:
            continue
        try:
            with os.scandir(fd) as listing:
                found = sorted(listing, key=lambda e: e.name)
            for entry in found:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield fd, parts, entry, info
                if stat.S_ISDIR(info.st_mode) and len(parts) + 1 < MAX_DEPTH:
                    stack.append((*parts, entry.name))
        finally:
            os.close(fd)


def _digest(parent_fd: int, name: str) -> str:
    fd = os.open(name, _FILE_FLAGS, dir_fd=parent_fd)
    try:
        h = hashlib.sha256()
        while chunk := os.read(fd, _HASH_CHUNK):
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> ``dir`` | ``file <sha256> <x|->`` | ``link <target>`` | ``special``.

    A directory at the depth limit reads ``dir (deeper than N levels)``, an unreadable file
    ``file (unreadable)``: both differ from anything a reference run leaves.
    """
    out: dict[str, str] = {}
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        for parent_fd, parts, entry, info in _entries(root_fd):
            rel = "/".join((*parts, entry.name))
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                out[rel] = f"link {os.readlink(entry.name, dir_fd=parent_fd)}"
            elif stat.S_ISDIR(mode):
                out[rel] = "dir" if len(parts) + 1 < MAX_DEPTH else f"dir (deeper than {MAX_DEPTH} levels)"
            elif stat.S_ISREG(mode):
                try:
                    digest = _digest(parent_fd, entry.name)
                except OSError:
                    out[rel] = "file (unreadable)"
                    continue
                out[rel] = f"file {digest} {'x' if mode & stat.S_IXUSR else '-'}"
            else:
                out[rel] = "special"
    finally:
        os.close(root_fd)
    return out


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """``lchown`` the root and everything under it (links themselves, never their targets)."""
    os.chown(root, uid, gid, follow_symlinks=False)
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        for parent_fd, _, entry, _ in _entries(root_fd):
            os.chown(entry.name, uid, gid, dir_fd=parent_fd, follow_symlinks=False)
    finally:
        os.close(root_fd)


def remove_tree(root: Path) -> None:
    """Delete ``root`` and everything under it, whatever the permissions, links and depth inside.

    Directories get mode 0700 (the directory itself: ``fchmodat`` without following) before they
    are emptied; links are unlinked, never followed. Best effort: what cannot be removed stays.
    """
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(os.lstat(root).st_mode):  # the command may have locked its own work dir
            os.chmod(root, 0o700)
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return
    try:
        pending: list[Parts] = [()]
        entered: set[Parts] = set()
        while pending:
            parts = pending[-1]
            if parts in entered:  # its children are gone (or could not go): remove it
                pending.pop()
                if parts:
                    _rmdir(root_fd, parts)
                continue
            entered.add(parts)
            try:
                fd = _open_dir(root_fd, parts)
            except OSError:
                continue
            try:
                pending.extend(_empty(fd, root_fd, parts))
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)
    with contextlib.suppress(OSError):
        os.rmdir(root)


def _empty(fd: int, root_fd: int, parts: Parts) -> list[Parts]:
    """Unlink the non-directories in ``fd``; return its subdirectories, to be emptied next."""
    subdirs: list[Parts] = []
    with os.scandir(fd) as listing:
        found = list(listing)
    for entry in found:
        with contextlib.suppress(OSError):
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.name, dir_fd=fd)
                continue
            os.chmod(entry.name, 0o700, dir_fd=fd, follow_symlinks=False)
            if len(parts) + 1 < MAX_DEPTH:
                subdirs.append((*parts, entry.name))
            else:  # too deep to reach by path: move it up to the top, then empty it there
                hoisted = f".bash-ai-deep-{uuid.uuid4().hex}"
                os.rename(entry.name, hoisted, src_dir_fd=fd, dst_dir_fd=root_fd)
                subdirs.append((hoisted,))
    return subdirs


def _rmdir(root_fd: int, parts: Parts) -> None:
    with contextlib.suppress(OSError):
        parent = _open_dir(root_fd, parts[:-1])
        try:
            os.rmdir(parts[-1], dir_fd=parent)
        finally:
            os.close(parent)


def disk_usage(root: Path, stop_above: int | None = None) -> int:
    """Bytes allocated to everything under ``root`` (``st_blocks``; sparse files count what they
    use), counting stops once past ``stop_above``. 0 when ``root`` cannot be read."""
    total = 0
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return 0
    try:
        for _, _, _, info in _entries(root_fd):
            total += info.st_blocks * 512
            if stop_above is not None and total > stop_above:
                break
    finally:
        os.close(root_fd)
    return total
