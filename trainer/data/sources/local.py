"""This machine's own shell scripts and man pages: an offline English + bash corpus.

Scripts: files with a ``sh``/``bash`` shebang (executables) or a ``.sh``/``.bash`` suffix, text
only, under a size cap, deduplicated by sha256. Man pages: ``man1``/``man8`` pages converted to
text by ``roff.to_text`` (not groff: ~100x faster), a deterministic sample capped by
``max_pages``. Each record keeps its path and, when dpkg knows the owning package, a pointer to
that package's copyright file. Bounded by counts and a time budget so the default harvest takes
seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError, UsageError
from bash_ai.manpages.roff import to_text
from bash_ai.manpages.store import read_source
from trainer.data.document import Document
from trainer.data.manifest import Manifest, make_manifest

name = "local"
licence = "various (per file)"
ROOTS: tuple[str, ...] = ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/share", "/usr/local", "/etc")
MAX_SCRIPTS = 5000
MAX_PAGES = 2000
MAX_SCRIPT_BYTES = 256 * 1024
MAX_SECONDS = 45.0
SCRIPTS_FILE = "scripts.jsonl"
MAN_FILE = "man.jsonl"

_SHEBANG = re.compile(rb"#![ \t]*\S*/(?:env[ \t]+)?(?:ba|da)?sh\b")
_SUFFIXES = (".sh", ".bash")
_MAN_SECTIONS = ("man1", "man8")


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    progress = options.get("progress")
    max_scripts = _positive(options.get("max_scripts"), MAX_SCRIPTS, "max_scripts")
    max_pages = _positive(options.get("max_pages"), MAX_PAGES, "max_pages")
    budget = float(options.get("max_seconds") or MAX_SECONDS)
    if from_path is not None:
        if not from_path.is_dir():
            raise DataError(f"--from for local must be a folder to harvest: {from_path}")
        roots = [from_path]
    else:
        roots = [Path(r) for r in ROOTS if Path(r).is_dir()]
    deadline = time.monotonic() + budget
    scripts, pages = _walk(roots, deadline)
    owners = DpkgOwners()
    seen: set[str] = set()
    n_scripts = _write_records(
        dest_dir / SCRIPTS_FILE, "scripts", scripts, _read_script, max_scripts, seen, owners, deadline, progress
    )
    # A hash order spreads the sample over the alphabet and stays the same on every run.
    pages = sorted(pages, key=lambda p: hashlib.sha256(p.name.encode()).digest())
    n_pages = _write_records(
        dest_dir / MAN_FILE, "man pages", pages, _man_text, max_pages, seen, owners, deadline, progress
    )
    if n_scripts + n_pages == 0:
        raise DataError(f"found no shell scripts or man pages under {', '.join(map(str, roots))}")
    return make_manifest(
        dest_dir,
        url=", ".join(Path(r).resolve().as_uri() for r in roots),
        attribution="files of the packages installed on this machine; see each record's licence field",
        counts={"scripts": n_scripts, "man_pages": n_pages, "timed_out": int(time.monotonic() > deadline)},
        options={"max_scripts": max_scripts, "max_pages": max_pages, "max_seconds": budget},
    )


def _positive(value: Any, default: int, what: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a whole number, not {value!r}") from None
    if number < 0:
        raise UsageError(f"{what} must be 0 or more")
    return number


def _walk(roots: list[Path], deadline: float) -> tuple[list[Path], list[Path]]:
    """Candidate scripts (in walk order) and man pages, found in one sorted, symlink-free walk."""
    scripts: list[Path] = []
    pages: list[Path] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            if time.monotonic() > deadline:
                return scripts, pages
            here = Path(folder)
            is_man = here.name in _MAN_SECTIONS and here.parent.name == "man"
            for file_name in sorted(files):
                path = here / file_name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not _is_regular(st.st_mode) or st.st_size == 0:
                    continue
                if is_man:
                    pages.append(path)
                elif st.st_size <= MAX_SCRIPT_BYTES and (file_name.endswith(_SUFFIXES) or st.st_mode & 0o111):
                    scripts.append(path)
    return scripts, pages


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _read_script(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not (path.name.endswith(_SUFFIXES) or _SHEBANG.match(data[:128])) or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _man_text(path: Path) -> str | None:
    """A man page as plain text; None for a link page (``.so``), a binary file or a near-empty page."""
    source = read_source(path)
    if source is None or source.lstrip().startswith(".so ") or "\0" in source:
        return None
    text = to_text(source)
    return text if len(text) >= 40 else None


def _write_records(
    out: Path,
    what: str,
    candidates: list[Path],
    read: Callable[[Path], str | None],
    limit: int,
    seen: set[str],
    owners: DpkgOwners,
    deadline: float,
    progress: Any,
) -> int:
    """One JSON line per new text ``read`` gives for a candidate, up to ``limit`` or the deadline."""
    count = 0
    with open(out, "w", encoding="utf-8") as handle:
        for i, path in enumerate(candidates):
            if count >= limit or time.monotonic() > deadline:
                break
            text = read(path)
            if text is None or not text.strip():
                continue
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            handle.write(json.dumps(_record(path, digest, text, owners), ensure_ascii=False) + "\n")
            count += 1
            if progress is not None and i % 100 == 0:
                progress(what, i, len(candidates))
    return count


def _record(path: Path, digest: str, text: str, owners: DpkgOwners) -> dict[str, str]:
    package = owners.package(path)
    return {
        "path": str(path),
        "sha256": digest,
        "package": package or "",
        "licence": package_licence(package),
        "text": text,
    }


def package_licence(package: str | None) -> str:
    if package and Path(f"/usr/share/doc/{package}/copyright").is_file():
        return f"local, see /usr/share/doc/{package}/copyright"
    return "unknown"


class DpkgOwners:
    """path -> Debian package, from dpkg's file lists (read once, only if a lookup is made)."""

    def __init__(self, info_dir: Path = Path("/var/lib/dpkg/info")) -> None:
        self._info_dir = info_dir
        self._owners: dict[str, str] | None = None

    def package(self, path: Path) -> str | None:
        if self._owners is None:
            self._owners = {}
            if self._info_dir.is_dir():
                for entry in self._info_dir.iterdir():
                    if entry.suffix == ".list":
                        package = entry.stem.split(":", 1)[0]
                        with open(entry, encoding="utf-8", errors="replace") as handle:
                            for line in handle:
                                self._owners[line.rstrip("\n")] = package
        text = str(path)
        # usrmerge: dpkg may list /bin/x for what we found as /usr/bin/x, and the reverse.
        alternative = text[4:] if text.startswith("/usr/") else "/usr" + text
        return self._owners.get(text) or self._owners.get(alternative)


def _iter_records(path: Path) -> Iterator[dict[str, str]]:
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
            except ValueError:
                raise DataError(f"{path}:{number} is corrupt; fetch again with --force") from None
            yield record


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """Scripts as ``script`` documents, man pages as ``text``; provenance in ``meta``."""
    for kind, file_name in (("script", SCRIPTS_FILE), ("text", MAN_FILE)):
        for record in _iter_records(Path(dataset_dir) / file_name):
            yield Document(
                kind=kind,  # type: ignore[arg-type]
                id=f"local:{record['sha256'][:16]}",
                source=name,
                licence=record.get("licence") or "unknown",
                text=record["text"],
                meta={"path": record["path"], "package": record.get("package", "")},
            )
