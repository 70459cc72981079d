"""GitHub scraper throughput against the loopback fake, with a naive peer in the same run.

    python benchmarks/bench_github_fetch.py [--repos 20] [--files 25] [--runs 3]

- cold: ``fetch`` into an empty store (search, repo, branch, tree, every blob; checks, fsyncs).
- warm: the same fetch again (ETag 304s for search/repo/branch/tree, zero blob downloads).
- naive peer: a bare ``urllib`` loop GETting the same URLs with no retry, check, cache or fsync;
  the ratio cold/naive is the price of being careful and resumable.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_github import FakeClock, FakeFile, FakeGitHub, FakeRepo  # noqa: E402


def repos(count: int, files: int) -> list[FakeRepo]:
    body = "".join(f"echo step {i}\n" for i in range(40))
    return [
        FakeRepo(
            f"user{r}/repo{r}",
            "MIT",
            1000 - r,
            [FakeFile(f"scripts/s{f}.sh", f"#!/bin/sh\n# repo {r} script {f}\n{body}".encode()) for f in range(files)],
        )
        for r in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--files", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BASH_AI_HOME"] = tmp
        from trainer.data.sources import github

        with FakeGitHub(repos(args.repos, args.files)) as gh:
            colds, warms, naives = [], [], []
            for run in range(args.runs):  # best of N: the machine is shared
                store = Path(tmp) / f"store{run}"
                opts: dict[str, Any] = {
                    "api_url": gh.url,
                    "clock": FakeClock(),
                    "store_dir": str(store),
                    "min_stars": 0,
                }
                before = len(gh.seen)
                start = time.perf_counter()
                manifest = github.fetch(Path(tmp) / f"cold{run}", **opts)
                colds.append(time.perf_counter() - start)
                urls = [gh.url + s.path for s in gh.seen[before:]]
                start = time.perf_counter()
                github.fetch(Path(tmp) / f"warm{run}", **opts)
                warms.append(time.perf_counter() - start)
                warm_requests = len(gh.seen) - before - len(urls)
                start = time.perf_counter()
                for url in urls:
                    with urllib.request.urlopen(url, timeout=30) as response:
                        response.read()
                naives.append(time.perf_counter() - start)
            cold, warm, naive = min(colds), min(warms), min(naives)
    files = manifest.counts["files"]
    print(f"{platform.node()} {platform.machine()} python {platform.python_version()}")
    print(f"best of {args.runs}; {args.repos} repos x {args.files} scripts = {files} files, {len(urls)} requests")
    print(f"cold fetch   {cold:6.2f} s  {files / cold:7.0f} files/s")
    print(f"warm re-run  {warm:6.2f} s  ({warm / cold:.2f}x of cold; {warm_requests} requests, all 304, no blob)")
    print(f"naive peer   {naive:6.2f} s  (cold / naive = {cold / naive:.2f}x)")


if __name__ == "__main__":
    main()
