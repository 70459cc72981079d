"""tldr-pages (CC BY 4.0): English pages of ``common``, ``linux`` and ``osx`` as pairs and text.

Stored as the upstream Markdown tree (``pages/<platform>/<name>.md`` plus ``LICENSE.md``), parsed
when read. ``tldr-holdout`` is a fixed ~5% of page *names* (``is_holdout``) that is never trained
on, on any platform, so the evaluation can measure commands the model has not seen.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from bash_ai.errors import DataError, UsageError
from trainer.data.document import TRAIN, Document
from trainer.data.manifest import Manifest, make_manifest
from trainer.data.sources.tldr_parse import Page, page_name, parse_page

name = "tldr"
licence = "CC-BY-4.0"
licence_url = "https://creativecommons.org/licenses/by/4.0/"
attribution = "© 2014–present the tldr-pages team and contributors, https://github.com/tldr-pages/tldr"
URL = "https://github.com/tldr-pages/tldr/archive/refs/heads/main.zip"
PLATFORMS: tuple[str, ...] = ("common", "linux", "osx")

HOLDOUT = "holdout"
HOLDOUT_MODULUS = 20  # 1 page name in 20 (~5%) is held out


def is_holdout(page: str) -> bool:
    """Whether a page name (``"tar"``, not ``"linux/tar"``) belongs to ``tldr-holdout``.

    sha256 of the UTF-8 name, first 8 bytes big-endian, mod 20 == 0: independent of platform,
    pack version and Python's hash seed, so the set is stable forever.
    """
    digest = hashlib.sha256(page.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_MODULUS == 0


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    progress = options.get("progress")
    platforms = _platforms(options.get("platforms"))
    if from_path is not None:
        pages_dir = _find_pages(from_path)
        url = from_path.resolve().as_uri()
        if not options.get("platforms"):  # defaults: whichever English platforms the copy has
            platforms = tuple(p for p in platforms if (pages_dir / p).is_dir())
        for platform in platforms:
            src = pages_dir / platform
            if not src.is_dir():
                raise DataError(f"{pages_dir} has no {platform}/ folder of tldr pages")
            out = dest_dir / "pages" / platform
            out.mkdir(parents=True)
            for entry in src.iterdir():  # iterdir: the hidden page "..md" must not be skipped
                if entry.is_file() and entry.name.endswith(".md"):
                    shutil.copyfile(entry, out / entry.name)
        for candidate in (pages_dir.parent / "LICENSE.md", pages_dir / "LICENSE.md"):
            if candidate.is_file():
                shutil.copyfile(candidate, dest_dir / "LICENSE.md")
                break
    else:
        from trainer.data.download import download, extract_zip

        url = str(options.get("url") or URL)
        archive = dest_dir / ".download.zip"
        download(url, archive, progress)
        wanted = set(platforms)

        def select(member: PurePosixPath) -> PurePosixPath | None:
            parts = member.parts
            if parts == ("LICENSE.md",):
                return member
            if len(parts) == 3 and parts[0] == "pages" and parts[1] in wanted and parts[2].endswith(".md"):
                return member
            return None

        extract_zip(archive, dest_dir, select, progress)
        archive.unlink()
    counts = _count(dest_dir)
    if counts["pages"] == 0:
        raise DataError(f"no tldr pages found in {from_path or url}")
    return make_manifest(
        dest_dir,
        url=url,
        counts=counts,
        options={"platforms": ",".join(platforms), "holdout": f"sha256(page)%{HOLDOUT_MODULUS}==0"},
    )


def _platforms(value: Any) -> tuple[str, ...]:
    if not value:
        return PLATFORMS
    chosen = tuple(p.strip() for p in str(value).split(",") if p.strip())
    if not chosen or any("/" in p or p.startswith(".") for p in chosen):
        raise UsageError(f"bad tldr platform list {value!r}")
    return chosen


def _find_pages(root: Path) -> Path:
    """Accept the pack root, a tldr checkout (both contain ``pages/``) or the ``pages`` folder itself."""
    if (root / "pages").is_dir():
        return root / "pages"
    if root.is_dir() and any((root / p).is_dir() for p in PLATFORMS):
        return root
    raise DataError(f"{root} does not look like tldr pages (expected pages/common, pages/linux or pages/osx)")


def iter_pages(dataset_dir: Path) -> Iterator[tuple[str, Page]]:
    """``(platform, page)`` for every stored page, platforms and names in sorted order."""
    pages = Path(dataset_dir) / "pages"
    if not pages.is_dir():
        raise DataError(f"{dataset_dir} has no tldr pages; fetch again with --force")
    for platform_dir in sorted(p for p in pages.iterdir() if p.is_dir()):
        for entry in sorted(platform_dir.iterdir(), key=lambda p: p.name):
            if entry.is_file() and entry.name.endswith(".md"):
                text = entry.read_text(encoding="utf-8")
                yield platform_dir.name, parse_page(page_name(entry.name), text)


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """Each page's summary as text, then its examples as pairs; held-out pages are split "holdout"."""
    for platform, page in iter_pages(dataset_dir):
        split = HOLDOUT if is_holdout(page.name) else TRAIN
        meta = {"page": page.name, "platform": platform}
        if page.summary:
            yield Document(
                kind="text",
                id=f"tldr:{platform}/{page.name}",
                source=name,
                licence=licence,
                text=f"{page.title}: {page.summary}",
                split=split,
                meta=meta,
            )
        for i, ex in enumerate(page.examples):
            if not ex.description or not ex.command:
                continue
            yield Document(
                kind="pair",
                id=f"tldr:{platform}/{page.name}#{i}",
                source=name,
                licence=licence,
                request=ex.description,
                command=ex.command,
                split=split,
                meta={**meta, "raw_command": ex.raw_command},
            )


def tldr_pairs(dataset_dir: Path, split: str = "train") -> list[Document]:
    """The pairs of one split: ``"train"`` or ``"holdout"`` (for the evaluation)."""
    if split not in (TRAIN, HOLDOUT):
        raise UsageError(f"unknown tldr split {split!r}; choose train or holdout")
    return [d for d in iter_documents(dataset_dir) if d.kind == "pair" and d.split == split]


def _count(dataset_dir: Path) -> dict[str, int]:
    pages = examples = held = 0
    for _, page in iter_pages(dataset_dir):
        pages += 1
        examples += len(page.examples)
        held += is_holdout(page.name)
    return {"pages": pages, "examples": examples, "holdout_pages": held}
