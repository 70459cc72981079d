"""``bash-ai data fetch|list|verify``: a thin face over ``trainer.data`` (imported inside commands)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

Opt = typer.Option
Arg = typer.Argument

data_app = typer.Typer(help="Fetch and list training datasets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("fetch", help="Download a dataset (or read a local copy with --from) into the data dir.")
def fetch(
    source: Annotated[str, Arg(help="tinystories | nl2bash | tldr | local | github (or another installed source)")],
    from_path: Annotated[Path | None, Opt("--from", help="Read this local file/folder instead of downloading")] = None,
    force: Annotated[bool, Opt("--force", help="Fetch again even if the dataset is present")] = False,
    url: Annotated[str | None, Opt("--url", help="Download from this URL (or Hub endpoint) instead")] = None,
    filename: Annotated[str | None, Opt("--filename", help="tinystories: the Hub file to download")] = None,
    max_pages: Annotated[int | None, Opt("--max-pages", help="local: most man pages to harvest")] = None,
    max_scripts: Annotated[int | None, Opt("--max-scripts", help="local: most scripts to harvest")] = None,
    query: Annotated[str | None, Opt("--query", help="github: repository search, e.g. 'language:Shell'")] = None,
    max_files: Annotated[int | None, Opt("--max-files", help="github: most distinct scripts")] = None,
    max_repos: Annotated[int | None, Opt("--max-repos", help="github: most repositories")] = None,
    min_stars: Annotated[int | None, Opt("--min-stars", help="github: fewest stars a repository needs")] = None,
    license: Annotated[str | None, Opt("--license", help="github: allowed licences, SPDX ids: mit,isc")] = None,
    api_url: Annotated[str | None, Opt("--api-url", help="github: API root (GitHub Enterprise)")] = None,
) -> None:
    from bash_ai.term.ui import info
    from trainer.data import dataset_path, fetch_dataset, get_source, is_fetched

    src = get_source(source)  # unknown names fail before anything is written
    if is_fetched(src.name) and not force:
        info(f"{src.name} is already fetched at {dataset_path(src.name)} (use --force to fetch again)")
        return
    given = {"url": url, "filename": filename, "max_pages": max_pages, "max_scripts": max_scripts}
    given |= {"query": query, "max_files": max_files, "max_repos": max_repos, "min_stars": min_stars}
    given |= {"license": license, "api_url": api_url}
    options: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    with _progress() as report:
        manifest = fetch_dataset(src, from_path, force=True, progress=report, **options)
    counts = ", ".join(f"{k} {v:,}" for k, v in manifest.counts.items())
    info(
        f"{manifest.name}: {len(manifest.files):,} files, {_size(manifest.total_size)} ({counts}); "
        f"licence {manifest.licence}; at {dataset_path(manifest.name)}"
    )


@data_app.command("list", help="Fetched datasets: name, source, licence, files, size, date.")
def list_(as_json: Annotated[bool, Opt("--json", help="Print JSON.")] = False) -> None:
    from trainer.data import list_datasets

    rows: list[dict[str, Any]] = [
        {
            "name": m.name,
            "source": m.source,
            "licence": m.licence,
            "files": len(m.files),
            "size_bytes": m.total_size,
            "fetched": m.fetched,
            "url": m.url,
            "counts": m.counts,
        }
        for m in list_datasets()
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        from bash_ai.term.ui import info

        info("no datasets fetched yet; try `bash-ai data fetch tldr --from ../shared/data/tldr`")
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("name", "source", "licence", "files", "size", "fetched")
        for r in rows:
            table.add_row(r["name"], r["source"], r["licence"], f"{r['files']:,}", _size(r["size_bytes"]), r["fetched"])
        Console().print(table)
        return
    header = ("name", "source", "licence", "files", "size", "fetched")
    lines = [header] + [
        (r["name"], r["source"], r["licence"], str(r["files"]), _size(r["size_bytes"]), r["fetched"]) for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")


@data_app.command("verify", help="Re-hash a dataset's files against its manifest.")
def verify(name: Annotated[str, Arg(help="Dataset name")]) -> None:
    from bash_ai.term.ui import info
    from trainer.data import dataset_path
    from trainer.data import verify as verify_dir

    manifest = verify_dir(dataset_path(name))
    info(f"{name}: {len(manifest.files):,} files match manifest.json")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A rich progress display on stderr when it is a terminal; otherwise silent."""
    from bash_ai.term.ui import console, styled

    if not styled():
        yield lambda what, done, total: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console(),
        transient=True,
    ) as bar:

        def report(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        yield report
