"""Fetched datasets on disk: ``datasets_dir()/<name>/`` with a ``manifest.json``.

A fetch writes into a hidden staging directory beside the final one, writes the manifest last,
then swaps the whole directory into place. A fetch that fails or is killed leaves no directory
under the final name (a killed one leaves a staging dir that the next fetch removes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bash_ai import paths
from bash_ai.errors import DataError
from trainer.data.document import Document
from trainer.data.manifest import MANIFEST, Manifest, read_manifest, write_manifest
from trainer.data.sources import ProgressFn, Source, get_source

_STAGING = ".partial-"


def dataset_path(name: str) -> Path:
    return paths.datasets_dir() / name


def is_fetched(name: str) -> bool:
    return (dataset_path(name) / MANIFEST).is_file()


def fetch_dataset(
    source: str | Source,
    from_path: Path | str | None = None,
    *,
    force: bool = False,
    progress: ProgressFn | None = None,
    **options: Any,
) -> Manifest:
    """Fetch a source into its dataset directory; returns the manifest (the existing one unless ``force``)."""
    src = get_source(source) if isinstance(source, str) else source
    final = dataset_path(src.name)
    if (final / MANIFEST).is_file() and not force:
        return read_manifest(final)
    if from_path is not None:
        from_path = Path(from_path).expanduser()
        if not from_path.exists():
            raise DataError(f"--from path {from_path} does not exist")
    root = paths.ensure(paths.datasets_dir())
    _remove_dead_staging(root, src.name)
    from bash_ai.io import staged_dir

    with staged_dir(final, prefix=f".{src.name}{_STAGING}{os.getpid()}-", where=root) as staging:
        manifest = src.fetch(staging, from_path=from_path, progress=progress or _quiet, **options)
        if not isinstance(manifest, Manifest):
            raise DataError(f"data source {src.name!r} returned no manifest")
        manifest.name = src.name
        manifest.source = manifest.source or src.name
        for fact in ("licence", "licence_url", "attribution"):  # stated once, by the source module
            if not getattr(manifest, fact):
                setattr(manifest, fact, str(getattr(src, fact, "")))
        write_manifest(staging, manifest)
    return manifest


def _quiet(what: str, done: int, total: int | None) -> None:
    return None


def _remove_dead_staging(root: Path, name: str) -> None:
    """Staging dirs of fetches that were killed (their pid is gone)."""
    prefix = f".{name}{_STAGING}"
    for entry in root.iterdir():
        if not entry.name.startswith(prefix):
            continue
        try:
            pid = int(entry.name[len(prefix) :].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_datasets() -> list[Manifest]:
    """Manifests of every complete dataset, by name."""
    root = paths.datasets_dir()
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not (entry / MANIFEST).is_file():
            continue
        with contextlib.suppress(DataError):
            found.append(read_manifest(entry))
    return found


def require_dataset(name: str) -> tuple[Source, Path, Manifest]:
    """The source, directory and manifest of a fetched dataset, or a DataError saying how to fetch it."""
    directory = dataset_path(name)
    if not (directory / MANIFEST).is_file():
        raise DataError(f"dataset {name!r} is not fetched; run `bash-ai data fetch {name}`")
    manifest = read_manifest(directory)
    return get_source(manifest.source), directory, manifest


def iter_documents(name: str) -> Iterator[Document]:
    """Every document of a fetched dataset, all splits (filter on ``doc.split`` for training)."""
    source, directory, _ = require_dataset(name)
    yield from source.iter_documents(directory)
