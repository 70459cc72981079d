"""``github``: shell scripts from public GitHub repositories under permissive licences.

``bash-ai data fetch github --query "language:Shell" --min-stars 50 --max-repos 20 --max-files 500``

The walk (``trainer.data.github``) writes into a persistent store first, so a killed or failed fetch
loses nothing and a re-run downloads only what it lacks; the dataset directory then gets:

- ``files/ab/<sha256>.sh``: each distinct script once (content-addressed: same bytes, one file);
- ``scripts.jsonl``: one line per (repo, path) with commit, blob, licence (SPDX), sha256, size, url.

Auth: ``GITHUB_TOKEN`` (or ``GH_TOKEN``) if set, else the unauthenticated rate. The token is never
printed, logged, or written anywhere. ``--from DIR`` imports a dataset (or store) directory fetched
elsewhere, offline, re-checking every hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bash_ai import paths
from bash_ai.errors import DataError, UsageError
from trainer.data.document import Document
from trainer.data.github.client import DEFAULT_API_URL, GitHubClient, token_from_env
from trainer.data.github.scraper import PERMISSIVE, Options, Scraper
from trainer.data.github.store import RECORDS, SCRIPTS, Store, read_records, write_dataset
from trainer.data.manifest import Manifest, make_manifest

name = "github"
licence = "various"  # per file: each script carries its repository's SPDX licence id

_LICENCE_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
_ATTRIBUTION = (
    "Shell scripts from public GitHub repositories, each under its repository's licence; "
    "scripts.jsonl gives every file's repo, path, commit, licence and URL."
)


def parse_options(options: Mapping[str, Any]) -> Options:
    """Validated scraper options from keyword options (CLI values; None means the default)."""
    default = Options()

    def number(key: str, fallback: int, low: int, high: int) -> int:
        value = options.get(key)
        if value is None:
            return fallback
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise UsageError(f"--{key.replace('_', '-')} must be an integer from {low} to {high}, got {value!r}")
        return value

    query = options.get("query") or default.query
    if not isinstance(query, str) or len(query) > 256 or not query.isprintable():
        raise UsageError("--query must be one printable line of at most 256 characters")
    raw = options.get("license", options.get("licence"))
    if raw is None:
        licences = PERMISSIVE
    else:
        items = raw.split(",") if isinstance(raw, str) else list(raw)
        licences = tuple(dict.fromkeys(str(i).strip().lower() for i in items if str(i).strip()))
        bad = [i for i in licences if not _LICENCE_ID.match(i)]
        if not licences or bad:
            raise UsageError(f"--license takes SPDX ids such as mit,apache-2.0; got {raw!r}")
    api_url = options.get("api_url") or options.get("url") or DEFAULT_API_URL  # the data CLI's --url works too
    if not isinstance(api_url, str) or urlsplit(api_url).scheme not in ("http", "https"):
        raise UsageError(f"--api-url must be an http(s) URL, got {api_url!r}")
    return Options(
        query=query,
        max_files=number("max_files", default.max_files, 1, 10_000_000),
        max_repos=number("max_repos", default.max_repos, 1, 1_000_000),
        min_stars=number("min_stars", default.min_stars, 0, 10_000_000),
        licences=licences,
        max_bytes=number("max_bytes", default.max_bytes, 1, 64 << 20),
        per_page=number("per_page", default.per_page, 1, 100),
        api_url=api_url.rstrip("/"),
    )


def store_dir(api_url: str) -> Path:
    """The default persistent store for one API host (GitHub and an Enterprise host never mix)."""
    host = re.sub(r"[^A-Za-z0-9.-]", "_", urlsplit(api_url).netloc) or "github"
    return paths.cache_dir() / "github" / host.strip(".")


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    progress = options.get("progress") or _quiet
    if from_path is not None:
        return _import(Path(dest_dir), Path(from_path))
    opts = parse_options(options)
    root = Path(options.get("store_dir") or store_dir(opts.api_url))
    client = GitHubClient(
        opts.api_url,
        options.get("token") or token_from_env(),
        clock=options.get("clock"),
        rng=options.get("rng"),
        timeout=_positive(options, "timeout", 30.0),
        retries=int(_positive(options, "retries", 5, zero_ok=True)),
        backoff=_positive(options, "backoff", 1.0),
        max_wait=_positive(options, "max_wait", 3700.0, zero_ok=True),
        on_wait=progress,
        cache_dir=root / "http",
    )
    with Store(root) as store:
        scraper = Scraper(client, store, opts, progress)
        records = scraper.run()
        if not records:
            raise DataError(
                f"GitHub search {opts.search_query()!r} gave no shell scripts under {','.join(opts.licences)}; "
                "loosen --query, --min-stars or --license"
            )
        distinct = store.export(records, Path(dest_dir))
    counts = {"repos": scraper.counts["repos"], "files": len(records), "distinct": distinct}
    counts |= {k: int(v) for k, v in sorted(scraper.counts.items()) if k not in counts}
    counts |= {k: int(v) for k, v in client.stats.items()}
    public = {
        "query": opts.search_query(),
        "max_files": opts.max_files,
        "max_repos": opts.max_repos,
        "min_stars": opts.min_stars,
        "license": ",".join(opts.licences),
        "max_bytes": opts.max_bytes,
        "api_url": opts.api_url,
        "authenticated": client.authenticated,
    }
    return make_manifest(
        Path(dest_dir),
        name=name,
        source=name,
        url=opts.api_url,
        licence=licence,
        attribution=_ATTRIBUTION,
        counts=counts,
        options=public,
    )


def _import(dest_dir: Path, from_path: Path) -> Manifest:
    """A dataset (``scripts.jsonl``) or store (``records.jsonl``) directory fetched elsewhere."""
    if not from_path.is_dir():
        raise DataError(f"--from {from_path} must be a directory from an earlier `bash-ai data fetch github`")
    listing = SCRIPTS if (from_path / SCRIPTS).is_file() else RECORDS
    records = read_records(from_path, listing)
    if not records:
        raise DataError(f"{from_path / listing} lists no scripts")
    distinct = write_dataset(from_path, records, dest_dir)
    return make_manifest(
        dest_dir,
        name=name,
        source=name,
        url=from_path.resolve().as_uri(),
        licence=licence,
        attribution=_ATTRIBUTION,
        counts={"files": len(records), "distinct": distinct},
    )


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """One script document per distinct content (first by repo/path), with its provenance and licence."""
    seen: set[str] = set()
    for record in sorted(read_records(dataset_dir), key=lambda r: (r.repo, r.path)):
        if record.sha256 in seen:
            continue
        seen.add(record.sha256)
        path = Path(dataset_dir) / record.file  # from the validated sha256, never from repo/path
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except OSError:
            raise DataError(f"{path} is missing; fetch again with `bash-ai data fetch github --force`") from None
        except UnicodeDecodeError:
            raise DataError(f"{path} is not UTF-8; the dataset is damaged, fetch it again") from None
        meta = {"repo": record.repo, "path": record.path, "commit": record.commit, "blob": record.blob}
        meta |= {"url": record.url, "sha256": record.sha256}
        yield Document(
            kind="script",
            id=f"github:{record.repo}/{record.path}",
            source=name,
            licence=record.licence,
            text=text,
            meta=meta,
        )


def _positive(options: Mapping[str, Any], key: str, default: float, *, zero_ok: bool = False) -> float:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not zero_ok):
        raise UsageError(f"--{key.replace('_', '-')} must be a {'non-negative' if zero_ok else 'positive'} number")
    return float(value)


def _quiet(what: str, done: int, total: int | None) -> None:
    return None
