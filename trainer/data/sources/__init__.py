"""The source registry: a name maps to a module (or object) with ``name``, ``licence``, ``fetch``,
``iter_documents``. See ``trainer.data`` for the contract.

Built-in sources are modules in this package, imported only when asked for, so a missing optional
source (e.g. ``github`` before it lands) costs nothing and is reported as unknown.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bash_ai.errors import DataError
from trainer.data.document import Document
from trainer.data.manifest import Manifest

# Reports progress of a long step: (what, done, total or None). Passed to fetch as ``progress=``.
ProgressFn = Callable[[str, int, int | None], None]


@runtime_checkable
class Source(Protocol):
    """A dataset source. A module with these four module-level names satisfies it; it may also
    name ``licence_url`` and ``attribution``, which the store copies into its manifest."""

    name: str
    licence: str

    def fetch(self, dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
        """Write the dataset's files into the empty ``dest_dir`` and return their manifest."""
        ...

    def iter_documents(self, dataset_dir: Path) -> Iterator[Document]:
        """Yield the stored dataset as documents, in a stable order."""
        ...


# name -> module path. Add a line here to ship a new built-in source.
BUILTIN: dict[str, str] = {
    "tinystories": "trainer.data.sources.tinystories",
    "nl2bash": "trainer.data.sources.nl2bash",
    "tldr": "trainer.data.sources.tldr",
    "local": "trainer.data.sources.local",
    "manpairs": "trainer.data.sources.manpairs",
    "github": "trainer.data.sources.github",
    "howto": "trainer.data.sources.howto",
}

_registered: dict[str, Source] = {}


def register_source(source: Source) -> Source:
    """Make a source object available by name (plugins; built-ins need no registration)."""
    _check(source, source.name if hasattr(source, "name") else repr(source))
    _registered[source.name] = source
    return source


def unregister_source(name: str) -> None:
    _registered.pop(name, None)


def source_names() -> list[str]:
    """Every source that can be used now (built-ins whose module exists, plus registered ones)."""
    names = [n for n, mod in BUILTIN.items() if importlib.util.find_spec(mod) is not None]
    return names + sorted(n for n in _registered if n not in BUILTIN)


def get_source(name: str) -> Source:
    if name in _registered:
        return _registered[name]
    module_name = BUILTIN.get(name)
    if module_name is None or importlib.util.find_spec(module_name) is None:
        raise DataError(f"unknown data source {name!r}; choose one of: {', '.join(source_names())}")
    module: Any = importlib.import_module(module_name)
    return _check(module, name)


def _check(source: Any, name: str) -> Source:
    missing = [a for a in ("name", "licence", "fetch", "iter_documents") if not hasattr(source, a)]
    if missing:
        raise DataError(f"data source {name!r} is incomplete: it lacks {', '.join(missing)}")
    return source  # type: ignore[no-any-return]
