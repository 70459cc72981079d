"""``manifest.json``: what a dataset directory holds, where it came from, and under which licence.

A dataset directory counts as complete only when its manifest exists; the manifest records the
sha256 of every stored file, so ``verify`` can prove the bytes are the ones fetched, and the
tokenized cache keys on those hashes.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError
from bash_ai.io import sha256_file

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass
class Manifest:
    name: str  # the dataset directory name (usually the source name)
    source: str
    url: str  # where the bytes came from: an https URL, or file:///... for --from
    licence: str  # SPDX-style id or short text, e.g. "CC-BY-4.0"
    licence_url: str = ""
    attribution: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relpath -> {"sha256", "size"}
    counts: dict[str, int] = field(default_factory=dict)  # e.g. {"pages": 7013, "pairs": 30479}
    fetched: str = ""  # ISO 8601, UTC
    bash_ai_version: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def total_size(self) -> int:
        return sum(int(entry["size"]) for entry in self.files.values())

    def fingerprint(self) -> str:
        """A hash of the stored bytes (not of the fetch date): equal data, equal fingerprint."""
        digest = hashlib.sha256()
        for rel in sorted(self.files):
            digest.update(f"{rel}\0{self.files[rel]['sha256']}\0".encode())
        return digest.hexdigest()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def hash_tree(root: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every regular file under ``root`` (manifest excluded), keyed by posix relpath."""
    files: dict[str, dict[str, Any]] = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():  # iterdir, not glob: dot-files such as tldr's "..md" count
            if entry.is_dir() and not entry.is_symlink():
                stack.append(entry)
            elif entry.is_file() and not entry.is_symlink():
                rel = entry.relative_to(root).as_posix()
                if rel != MANIFEST:
                    files[rel] = {"sha256": sha256_file(entry), "size": entry.stat().st_size}
    return dict(sorted(files.items()))


def make_manifest(
    dest_dir: Path,
    *,
    url: str,
    name: str = "",
    source: str = "",
    licence: str = "",
    licence_url: str = "",
    attribution: str = "",
    counts: Mapping[str, int] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Manifest:
    """Hash what a source wrote into ``dest_dir`` and describe it; sources call this last.

    What the source module states itself (its name, licence, licence_url and attribution) need not
    be passed: the store fills what is left empty from the source (``trainer.data.store``)."""
    from bash_ai import __version__

    return Manifest(
        name=name,
        source=source,
        url=url,
        licence=licence,
        licence_url=licence_url,
        attribution=attribution,
        files=hash_tree(dest_dir),
        counts=dict(counts or {}),
        fetched=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        bash_ai_version=__version__,
        options={k: v for k, v in (options or {}).items() if isinstance(v, str | int | float | bool) or v is None},
    )


def read_manifest(dataset_dir: Path) -> Manifest:
    path = Path(dataset_dir) / MANIFEST
    if not path.is_file():
        raise DataError(f"{dataset_dir} is not a fetched dataset (no {MANIFEST}); run `bash-ai data fetch`")
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as err:
        raise DataError(f"{path} is corrupt: {err}") from None


def write_manifest(dataset_dir: Path, manifest: Manifest) -> None:
    from bash_ai.io import atomic_write_text

    atomic_write_text(Path(dataset_dir) / MANIFEST, manifest.to_json())


def verify(dataset_dir: Path) -> Manifest:
    """Re-hash every file the manifest lists; raise DataError naming the first that differs."""
    manifest = read_manifest(dataset_dir)
    for rel, entry in manifest.files.items():
        path = Path(dataset_dir) / rel
        if not path.is_file():
            raise DataError(f"{dataset_dir}: {rel} is missing; fetch again with --force")
        if sha256_file(path) != entry["sha256"]:
            raise DataError(f"{dataset_dir}: {rel} does not match its manifest sha256; fetch again with --force")
    return manifest
