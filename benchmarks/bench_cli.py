"""CLI latency: cold one-shot ``bash-ai "list files sorted by size"`` vs a torch import, and the
REPL's warm suggestion latency.

    python benchmarks/bench_cli.py [--runs 10] [--model DIR] [--against CHECKOUT]

Uses the bundled model when ``assets/model`` holds one, else the ``mini`` preset with random
weights (same shapes, so the same cost per token; the report says which). Peak RSS per process is
read with ``/usr/bin/time -f %M`` when available, else ``getrusage(RUSAGE_CHILDREN)``.

``--against CHECKOUT`` (another checkout of bash-ai, e.g. a ``git worktree`` of the base commit) also
times cold answers of that code and this one in alternating pairs (its package first on
``PYTHONPATH``, the same model), so a drift in the machine's speed hits both sides alike: the paired
difference is the change's cost, with its standard error.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REQUEST = "list files sorted by size"
PREFIX = "find . -na"  # mid-word: the ghost text must finish "-name"


def random_mini_model(out: Path) -> Path:
    """A ``mini``-preset model with random weights and a 4096-token BPE trained on NL2Bash (the
    data pack at ``../shared/data``), so the output layer has the bundled model's shape."""
    from bash_ai.checkpoint import random_weights, save_model_dir
    from bash_ai.config import preset
    from bash_ai.tokenizer import BPETokenizer

    nl2bash = Path(__file__).resolve().parents[2] / "shared" / "data" / "nl2bash"
    if (nl2bash / "all.cm").is_file():
        texts = [(nl2bash / name).read_text(encoding="utf-8") for name in ("all.cm", "all.nl")]
        tokenizer = BPETokenizer.train(texts, vocab_size=4096)
    else:  # no data pack: a small vocabulary (the output layer is then cheaper than the real one)
        texts = ["ls -S lists files sorted by size\nfind . -name '*.py' -type f\ntar czf backup.tgz docs\n"] * 20
        tokenizer = BPETokenizer.train(texts, vocab_size=512)
    config = preset("mini", vocab_size=int(tokenizer.vocab_size))
    save_model_dir(out, config, random_weights(config, seed=0), tokenizer)
    return out


def timed_runs(argv: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[int]]:
    """Wall seconds and peak RSS (KiB) of ``runs`` cold processes."""
    gnu_time = shutil.which("time") if Path("/usr/bin/time").exists() else None
    seconds: list[float] = []
    rss: list[int] = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r") as report:
            wrapper = ["/usr/bin/time", "-f", "%M", "-o", report.name] if gnu_time else []
            start = time.perf_counter()
            result = subprocess.run(wrapper + argv, env=env, capture_output=True)
            seconds.append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(f"{argv[:3]} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
            if gnu_time:
                rss.append(int(report.read().strip().splitlines()[-1]))
            else:
                rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seconds, rss


def paired_runs(
    argv: list[str], runs: int, env: dict[str, str], other: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Wall seconds of ``runs`` cold processes each under ``env`` and ``other``, in alternating
    order (AB, BA, ...), after one unmeasured run of each (which writes its caches)."""
    timed: dict[str, list[float]] = {"this": [], "other": []}
    envs = {"this": env, "other": other}

    def run(side: str) -> float:
        start = time.perf_counter()
        result = subprocess.run(argv, env=envs[side], capture_output=True)
        if result.returncode != 0:
            raise SystemExit(f"{side}: {argv[:3]} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
        return time.perf_counter() - start

    run("this"), run("other")
    for i in range(runs):
        for side in ("other", "this") if i % 2 else ("this", "other"):
            timed[side].append(run(side))
    return timed["this"], timed["other"]


def summary(label: str, seconds: list[float], rss: list[int]) -> str:
    return (
        f"| {label} | {min(seconds):.3f} | {statistics.median(seconds):.3f} | {max(seconds):.3f} "
        f"| {max(rss) / 1024:.0f} |"
    )


def suggestion_latency(model_dir: Path, repeats: int = 20) -> tuple[float, float, int]:
    """Warm REPL ghost-text latency (median, max ms) and characters per suggestion, model in-process:
    the REPL's own path (``bash_ai.repl.constrained.complete_line``, up to 16 tokens)."""
    from bash_ai import registry
    from bash_ai.repl.constrained import complete_line

    engine = registry.load(str(model_dir))
    times: list[float] = []
    chars = 0
    for i in range(repeats + 2):
        start = time.perf_counter()
        rest = complete_line(engine, PREFIX, 16, threading.Event())
        if i >= 2:  # the first calls warm caches
            times.append((time.perf_counter() - start) * 1000)
            chars = len(rest)
    return statistics.median(times), max(times), chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--against", type=Path, default=None, help="another checkout to time in pairs")
    args = parser.parse_args()

    from bash_ai.api import import_numpy_single_threaded

    import_numpy_single_threaded()  # as the CLI and the REPL do, before anything loads numpy
    from bash_ai.paths import bundled_model_dir

    with tempfile.TemporaryDirectory() as tmp:
        if args.model is not None:
            model_dir, which = args.model, f"the model at {args.model}"
        elif (bundled_model_dir() / "config.json").exists():
            model_dir, which = bundled_model_dir(), "the bundled model (assets/model)"
        else:
            model_dir, which = random_mini_model(Path(tmp) / "mini"), "the `mini` preset with random weights"
        from bash_ai.config import ModelConfig, describe

        config = ModelConfig.load(Path(model_dir) / "config.json")
        env = {**os.environ, "BASH_AI_HOME": str(Path(tmp) / "home"), "HF_HUB_OFFLINE": "1"}
        cli = [sys.executable, "-m", "bash_ai", "--model", str(model_dir), REQUEST]
        first_s, first_rss = timed_runs(cli, 1, env)  # writes the prepared weights (bash_ai.model.prepared)
        cli_s, cli_rss = timed_runs(cli, args.runs, env)
        short_s, short_rss = timed_runs([*cli[:-1], "--max-tokens", "8", REQUEST], args.runs, env)
        help_s, help_rss = timed_runs([sys.executable, "-m", "bash_ai", "--help"], args.runs, env)
        bare_s, bare_rss = timed_runs([sys.executable, "-c", "pass"], args.runs, env)
        torch_s, torch_rss = timed_runs([sys.executable, "-c", "import torch"], args.runs, env)
        median_ms, max_ms, tokens = suggestion_latency(Path(model_dir))
        pairs = None
        if args.against is not None:
            other = {**env, "BASH_AI_HOME": str(Path(tmp) / "other-home"), "PYTHONPATH": str(args.against.resolve())}
            pairs = paired_runs(cli, args.runs * 3, env, other)

    print(f"Model: {which}: {describe(config)}")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Runs: {args.runs} cold processes each\n")
    print("| process | min s | median s | max s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    print(summary(f'`bash-ai "{REQUEST}"`, the first after install (prepares the weights)', first_s, first_rss))
    print(summary(f'`bash-ai "{REQUEST}"`', cli_s, cli_rss))
    print(summary("the same with `--max-tokens 8` (answer-sized decode)", short_s, short_rss))
    print(summary("`bash-ai --help` (start-up only)", help_s, help_rss))
    print(summary("`python -c pass`", bare_s, bare_rss))
    print(summary('`python -c "import torch"` (peer)', torch_s, torch_rss))
    ratio = statistics.median(torch_s) / statistics.median(cli_s)
    print(f"\nA whole cold one-shot answer takes {1 / ratio:.2f}x the time of merely importing torch.")
    print(f"REPL suggestion for `{PREFIX}` (warm, {tokens} chars): median {median_ms:.1f} ms, max {max_ms:.1f} ms")
    if pairs is not None:
        this, that = pairs
        diffs = [a - b for a, b in zip(this, that, strict=True)]
        print(
            f"\nIn {len(diffs)} alternating pairs against {args.against}: this {statistics.median(this):.3f} s, "
            f"that {statistics.median(that):.3f} s (medians); this minus that {statistics.mean(diffs):+.3f} s "
            f"± {statistics.stdev(diffs) / len(diffs) ** 0.5:.3f} (mean ± standard error)"
        )


if __name__ == "__main__":
    main()
