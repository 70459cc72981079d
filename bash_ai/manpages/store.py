"""Man pages from the user's own system, found with ``man -w`` and cached parsed in the data dir.

Nothing is copied into the package: a page is read where ``man`` finds it, parsed once, and the
facts kept as ``<data dir>/manpages/<program>.json`` (written atomically). A cache entry is used only
while its source file has the same size and modification time; a program without a page is
remembered for a day, so that an explain does not run ``man -w`` for it every time.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bash_ai import paths
from bash_ai.io import atomic_write_text
from bash_ai.manpages.page import ManPage, parse_page

CACHE_VERSION = 1
MISSING_TTL = 24 * 3600.0  # seconds a "no man page" answer is trusted
MAN_TIMEOUT = 3.0
MAX_PAGE_BYTES = 4 << 20  # a page bigger than this (decompressed) is not a man page we parse
_PROGRAM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}")
_SO = re.compile(r"^\.so\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Found:
    """A lookup's answer: the page (or None) and where it came from, or why there is none."""

    page: ManPage | None
    source: str  # the page's path, or the reason there is no page


def lookup(program: str, *, cache_dir: Path | None = None) -> Found:
    """The man page facts of ``program`` (a bare name, e.g. ``tar``)."""
    if not _PROGRAM.fullmatch(program):
        return Found(None, "not a program name")
    folder = cache_dir if cache_dir is not None else paths.data_dir() / "manpages"
    entry = folder / f"{program}.json"
    cached = _read_cache(entry)
    if cached is not None:
        return cached
    found = _from_system(program)
    _write_cache(entry, found)
    return found


def _read_cache(entry: Path) -> Found | None:
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return None
        if data.get("page") is None:
            if time.time() - float(data["checked"]) < MISSING_TTL:
                return Found(None, str(data["source"]))
            return None
        stat = os.stat(data["source"])
        if stat.st_size != data["size"] or stat.st_mtime_ns != data["mtime_ns"]:
            return None  # the page changed (a package upgrade): parse it again
        return Found(ManPage.from_json(data["page"]), str(data["source"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no entry, or one we cannot trust: look again


def _write_cache(entry: Path, found: Found) -> None:
    record: dict[str, object] = {"version": CACHE_VERSION, "source": found.source}
    if found.page is None:
        if found.source.startswith("man is not installed"):
            return  # installing man must take effect at once
        record |= {"page": None, "checked": time.time()}
    else:
        try:
            stat = os.stat(found.source)
        except OSError:
            return
        record |= {"page": found.page.to_json(), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(entry, json.dumps(record, sort_keys=True))
    except OSError:
        pass  # a read-only cache only costs speed


def _from_system(program: str) -> Found:
    man = shutil.which("man")
    if man is None:
        return Found(None, "man is not installed")
    try:
        proc = subprocess.run(
            [man, "-w", program],
            capture_output=True,
            text=True,
            timeout=MAN_TIMEOUT,
            env={**os.environ, "MANWIDTH": "80", "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Found(None, f"man -w failed ({type(exc).__name__})")
    paths_found = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not paths_found:
        return Found(None, f"no man page for {program} on this system")
    path = Path(paths_found[0])
    source = read_source(path)
    if source is None:
        return Found(None, f"cannot read {path}")
    redirect = _SO.match(source.lstrip())
    if redirect and len(source) < 512:  # ``.so man1/other.1``: one level of indirection
        target = path.parent.parent / redirect.group(1)
        for candidate in (target, *target.parent.glob(target.name + ".*")):
            text = read_source(candidate)
            if text is not None:
                path, source = candidate, text
                break
    return Found(parse_page(program, source), str(path))


def read_source(path: Path) -> str | None:
    """A man page's roff source, decompressed; None when unreadable or too big."""
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}.get(path.suffix, open)
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            data = handle.read(MAX_PAGE_BYTES + 1)
    except (OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    if len(data) > MAX_PAGE_BYTES:
        return None
    return bytes(data).decode("utf-8", errors="replace")


def tldr_summary(program: str) -> str | None:
    """The summary line of ``program``'s tldr page, when the tldr dataset has been fetched."""
    if not _PROGRAM.fullmatch(program):
        return None
    root = paths.datasets_dir() / "tldr" / "pages"
    for platform in ("common", "linux", "osx"):
        try:
            text = (root / platform / f"{program}.md").read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("> ") and not line.startswith("> More information"):
                return line[2:].strip().rstrip(".")
    return None
