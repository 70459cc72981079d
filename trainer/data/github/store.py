"""The scraper's persistent, resumable store, and its export into a dataset directory.

Why outside the dataset dir: ``fetch_dataset`` stages into a fresh directory and discards it on any
failure, so what a killed or failed fetch already downloaded must live elsewhere to be reused. The
store (``cache_dir()/github/<host>/`` by default) holds:

- ``files/ab/<sha256>.sh``: each distinct content once, written atomically (temp file, fsync, rename).
- ``records.jsonl``: one line per fetched file (repo, path, commit, blob, licence, sha256, size, url),
  appended and fsynced after its content file exists; a line torn by a kill is cut off on next open.
- ``rejected.jsonl``: blobs downloaded and refused (binary, not UTF-8, not a shell script), so a
  re-run never downloads them again.
- ``http/``: ETag-cached search and tree answers (see ``client``).

Nothing here is named after a remote string: file names are sha256 hex, so a hostile repo path
cannot reach outside the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from bash_ai.errors import DataError
from bash_ai.io import sha256_file

RECORDS = "records.jsonl"
REJECTED = "rejected.jsonl"
SCRIPTS = "scripts.jsonl"  # the per-file manifest inside a dataset directory
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_BLOB = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


@dataclass(frozen=True)
class Record:
    """One fetched file and its provenance; ``licence`` is the repo's SPDX id."""

    repo: str
    path: str
    commit: str
    blob: str
    licence: str
    sha256: str
    size: int
    url: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.repo, self.path, self.blob)

    @property
    def file(self) -> str:
        """Where the content lives, relative to the store or dataset root: derived from sha256 only."""
        return content_path(self.sha256)

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Record | None:
        """A record from untrusted JSON, or None when any field is missing or malformed."""
        if not isinstance(data, dict):
            return None
        strings = ("repo", "path", "commit", "blob", "licence", "sha256", "url")
        if not all(isinstance(data.get(k), str) for k in strings) or type(data.get("size")) is not int:
            return None
        if not _SHA256.match(data["sha256"]) or not _BLOB.match(data["blob"]) or data["size"] < 0:
            return None
        return cls(**{k: data[k] for k in (*strings, "size")})


def content_path(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise DataError(f"not a sha256 digest: {sha256[:80]!r}")
    return f"files/{sha256[:2]}/{sha256}.sh"


def read_jsonl(path: Path, *, repair: bool = False) -> list[Any]:
    """Every parseable line; with ``repair``, a torn last line (a kill mid-append) is cut off the file."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if repair and end != len(data):
        os.truncate(path, end)
    rows = []
    for line in data[:end].splitlines():
        with contextlib.suppress(ValueError):
            rows.append(json.loads(line))
    return rows


class Store:
    """Open with ``with Store(root) as store:``; one writer at a time (an advisory lock)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.http_dir = self.root / "http"
        self._records: dict[tuple[str, str, str], Record] = {}
        self._by_blob: dict[str, str] = {}  # blob sha -> sha256 of its stored content
        self._rejected: dict[str, str] = {}  # blob sha -> reason
        self._lock: IO[bytes] | None = None
        self._out: IO[str] | None = None

    def __enter__(self) -> Store:
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.root / ".lock", "wb")  # noqa: SIM115 - held for the store's lifetime
        try:
            import fcntl

            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no advisory locking, one fetch at a time is then on the user
            pass
        except OSError:
            self._lock.close()
            raise DataError(f"another GitHub fetch is using {self.root}; wait for it to finish") from None
        self._remove_temp_files()
        self._load()
        self._out = open(self.root / RECORDS, "a", encoding="utf-8")  # noqa: SIM115
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in (self._out, self._lock):
            if handle is not None:
                handle.close()
        self._out = self._lock = None

    def _remove_temp_files(self) -> None:
        """Temp files of atomic writes cut short by a kill (safe: we hold the lock)."""
        for folder in (self.root, self.http_dir, *self.root.glob("files/*")):
            if folder.is_dir():
                for temp in folder.glob(".*.tmp"):
                    temp.unlink(missing_ok=True)

    def _load(self) -> None:
        good: set[str] = set()
        bad: set[str] = set()
        for row in read_jsonl(self.root / RECORDS, repair=True):
            record = Record.from_dict(row)
            if record is None:
                continue
            if record.sha256 not in good and record.sha256 not in bad:
                stored = self.root / record.file
                intact = (
                    stored.is_file() and stored.stat().st_size == record.size and sha256_file(stored) == record.sha256
                )
                (good if intact else bad).add(record.sha256)
            if record.sha256 in good:  # a damaged content file is dropped here and fetched again
                self._records[record.key] = record
                self._by_blob[record.blob] = record.sha256
        for row in read_jsonl(self.root / REJECTED, repair=True):
            if isinstance(row, dict) and isinstance(row.get("blob"), str) and isinstance(row.get("reason"), str):
                self._rejected[row["blob"]] = row["reason"]

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> Iterator[Record]:
        return iter(self._records.values())

    def known_blob(self, blob: str) -> str | None:
        """sha256 of a blob's stored content, if some earlier run already fetched it."""
        return self._by_blob.get(blob)

    def rejection(self, blob: str) -> str | None:
        return self._rejected.get(blob)

    # -- writes --------------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Store content once under its sha256; returns the digest."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / content_path(digest)
        if not (path.is_file() and path.stat().st_size == len(data)):
            from bash_ai.io import atomic_write_bytes

            atomic_write_bytes(path, data)
        return digest

    def add(self, record: Record) -> bool:
        """Append a record (after its content is stored); False when it was already there."""
        if record.key in self._records:
            return False
        self._append(record.to_line())
        self._records[record.key] = record
        self._by_blob[record.blob] = record.sha256
        return True

    def reject(self, blob: str, reason: str) -> None:
        self._rejected[blob] = reason
        with open(self.root / REJECTED, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"blob": blob, "reason": reason}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _append(self, line: str) -> None:
        if self._out is None:
            raise RuntimeError("Store used outside its `with` block")
        self._out.write(line)
        self._out.flush()
        os.fsync(self._out.fileno())

    def export(self, records: Iterable[Record], dest: Path) -> int:
        """Link (or copy) the records' contents into ``dest/files/`` and write ``dest/scripts.jsonl``."""
        return write_dataset(self.root, records, dest)


def write_dataset(source_root: Path, records: Iterable[Record], dest: Path) -> int:
    """Write a dataset dir from records whose contents are under ``source_root``; returns distinct files.

    Each content is re-hashed on the way, so a damaged store or import never yields a dataset whose
    bytes disagree with their records.
    """
    from bash_ai.io import atomic_write_text

    rows = sorted(set(records), key=lambda r: (r.repo, r.path, r.blob))
    done: set[str] = set()
    for record in rows:
        if record.sha256 in done:
            continue
        src, dst = Path(source_root) / record.file, Path(dest) / record.file
        if not src.is_file() or sha256_file(src) != record.sha256:
            raise DataError(f"{src} is missing or does not match its sha256; fetch again")
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)  # contents are immutable (always replaced, never edited): sharing is safe
        except OSError:
            shutil.copyfile(src, dst)
        done.add(record.sha256)
    atomic_write_text(Path(dest) / SCRIPTS, "".join(r.to_line() for r in rows))
    return len(done)


def read_records(dataset_dir: Path, name: str = SCRIPTS) -> list[Record]:
    """The records of a dataset (or store) directory; any malformed line is a DataError."""
    path = Path(dataset_dir) / name
    if not path.is_file():
        raise DataError(f"{dataset_dir} has no {name}; fetch it again with `bash-ai data fetch github --force`")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = Record.from_dict(json.loads(line))
        except ValueError:
            record = None
        if record is None:
            raise DataError(f"{path}: line {number} is not a valid record")
        records.append(record)
    return records
