"""Cost of the checks every generated command goes through, and of the evaluation metrics.

    python benchmarks/bench_safety.py [--data ../shared/data] [--n-syntax 200]

Each figure is printed with a peer measured in the same run:
- danger ``assess`` and our parser vs ``shlex.split`` on the ~30k tldr example commands;
- ``bash -n`` one process per call vs ``check_syntax_many`` (parallel, deduplicated);
- shellcheck one process per command vs one process for the batch;
- a sandboxed ``true`` vs a bare ``bash -c true`` subprocess;
- template and NLC2CMD scoring of NL2Bash dev pairs.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bash_ai.evaluation import command_template, nlc2cmd_score, run_sandboxed, sandbox_problem  # noqa: E402
from bash_ai.safety import assess, check_syntax_many  # noqa: E402
from bash_ai.safety.shell import parse  # noqa: E402
from bash_ai.safety.syntax import _check, shellcheck_findings, shellcheck_many  # noqa: E402

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")


def tldr_commands(data: Path) -> list[str]:
    out = []
    for page in sorted((data / "tldr" / "pages").glob("*/*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            if len(line) > 2 and line.startswith("`") and line.endswith("`"):
                out.append(_PLACEHOLDER.sub(lambda m: m.group(1).lstrip("[").split("|")[0], line[1:-1]))
    return out


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def shlex_all(commands: list[str]) -> None:
    for c in commands:
        with contextlib.suppress(ValueError):
            shlex.split(c)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--n-syntax", type=int, default=200)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}")

    commands = tldr_commands(args.data)
    n = len(commands)
    t_shlex = best_of(3, lambda: shlex_all(commands))
    t_parse = best_of(3, lambda: [parse(c) for c in commands])
    t_assess = best_of(3, lambda: [assess(c) for c in commands])
    each = sorted(best_of(1, lambda c=c: assess(c)) for c in commands)
    print(f"tldr commands: {n}")
    print(f"  shlex.split   {t_shlex / n * 1e6:7.1f} us/cmd (peer)")
    print(f"  parse         {t_parse / n * 1e6:7.1f} us/cmd ({t_parse / t_shlex:.1f}x shlex)")
    print(f"  assess        {t_assess / n * 1e6:7.1f} us/cmd ({t_assess / t_shlex:.1f}x shlex)")
    p50, p99, top = each[n // 2], each[int(n * 0.99)], each[-1]
    print(f"  assess one by one: p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, max {top * 1e3:.2f} ms")

    m = args.n_syntax
    batch = [f"echo {i} | grep -c {i} && ls -la /tmp/{i}" for i in range(m)]
    _check.cache_clear()
    t_serial = best_of(1, lambda: [_check(c, 5.0) for c in batch])
    _check.cache_clear()
    t_batch = best_of(1, lambda: check_syntax_many(batch))
    t_cached = best_of(3, lambda: check_syntax_many(batch))
    print(f"bash -n, {m} distinct commands:")
    print(f"  one process per call  {t_serial / m * 1e3:6.2f} ms/cmd (peer)")
    print(f"  check_syntax_many     {t_batch / m * 1e3:6.2f} ms/cmd ({t_serial / t_batch:.1f}x faster)")
    print(f"  repeated (cached)     {t_cached / m * 1e6:6.1f} us/cmd")

    k = 50
    sc = batch[:k]
    t_sc_single = best_of(1, lambda: [shellcheck_findings(c) for c in sc])
    t_sc_batch = best_of(3, lambda: shellcheck_many(sc))
    print(f"shellcheck, {k} commands:")
    print(f"  one process per call  {t_sc_single / k * 1e3:6.2f} ms/cmd (peer)")
    print(f"  shellcheck_many       {t_sc_batch / k * 1e3:6.2f} ms/cmd ({t_sc_single / t_sc_batch:.1f}x faster)")

    problem = sandbox_problem()
    if problem is None:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            runs = [best_of(1, lambda: run_sandboxed("true", work)) for _ in range(20)]
            bare = [best_of(1, lambda: subprocess.run(["bash", "-c", "true"], check=True)) for _ in range(20)]
        print("sandbox, 20 runs of `true` (median):")
        print(f"  bare bash -c true     {statistics.median(bare) * 1e3:6.1f} ms (peer)")
        print(
            f"  run_sandboxed         {statistics.median(runs) * 1e3:6.1f} ms ({statistics.median(runs) / statistics.median(bare):.1f}x)"
        )
    else:
        print(f"sandbox: skipped ({problem})")

    cms = (args.data / "nl2bash" / "dev.cm").read_text(encoding="utf-8").splitlines()
    pairs = list(zip(cms, cms[1:] + cms[:1], strict=True))
    t_tpl = best_of(3, lambda: [command_template(a) == command_template(b) for a, b in pairs])
    t_nlc = best_of(3, lambda: [nlc2cmd_score(a, b) for a, b in pairs])
    print(f"NL2Bash dev, {len(pairs)} pairs: template match {t_tpl / len(pairs) * 1e6:.0f} us/pair,", end=" ")
    print(f"NLC2CMD score {t_nlc / len(pairs) * 1e6:.0f} us/pair")


if __name__ == "__main__":
    main()
