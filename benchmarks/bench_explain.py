"""``bash-ai explain`` latency, cold process, with a warm man page cache; beside a peer that a
user would otherwise run, ``man -P cat PROGRAM`` (the formatted page), and ``bash-ai --version``
(the CLI's own floor).

    python benchmarks/bench_explain.py [--runs 9] [--command 'tar czf a.tgz dir']

Each process starts fresh (``sys.executable -m bash_ai``); the first explain run fills the cache
and is not counted. The last line is ``explain median X.XXX s (target 0.5 s); man -P cat:
Y.YYY s; ratio Z.ZZx``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"error: {' '.join(argv)} failed: {proc.stderr.decode(errors='replace')[-300:]}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--command", default="tar czf a.tgz dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BASH_AI_HOME": home}
        explain = [sys.executable, "-m", "bash_ai", "explain", args.command]
        subprocess.run(explain, capture_output=True, env=env, check=True)  # fills the man page cache
        cold = timed(explain, env, args.runs)
        floor = timed([sys.executable, "-m", "bash_ai", "--version"], env, args.runs)
        program = shlex.split(args.command)[0]
        man = timed(["man", "-P", "cat", program], {**env, "MANWIDTH": "80"}, args.runs)
    print(f"command: {args.command!r}, {args.runs} runs each, medians")
    print(f"bash-ai --version: {floor:.3f} s")
    print(f"explain median {cold:.3f} s (target 0.5 s); man -P cat: {man:.3f} s; ratio {cold / man:.2f}x")


if __name__ == "__main__":
    main()
