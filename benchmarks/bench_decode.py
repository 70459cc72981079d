"""Decode speed of the numpy runtime (the CLI's) against the PyTorch model, on the same weights.

    python benchmarks/bench_decode.py [--presets tiny mini small] [--tokens 128] [--cold-runs 5]
    python benchmarks/bench_decode.py --part threads [--model assets/model]  # two decodes at once
    python benchmarks/bench_decode.py --part propose [--model assets/model] [--rounds 3]  # pooled scoring
    python benchmarks/bench_decode.py --part rows [--model assets/model]  # sgemm or gemv per row
    python benchmarks/bench_decode.py --part flops [--model assets/model]  # an answer's arithmetic, its floor

Raw runtime part (this file's first half):
- warm decode: batch 1, a 16-token prompt prefilled, then one token per step through the KV cache,
  ``last_only`` logits; best of 3 repeats. The torch peer is ``TorchLogitsModel``: the same
  ``GPT`` module with a simple concatenating KV cache, under ``inference_mode``.
- cold start: wall time of a fresh ``python -c`` from process start to the first logits of a
  16-token prompt, for the numpy runtime (import + ``load_numpy_model``) and for torch (import torch,
  ``load_weights`` + ``load_into_torch`` + forward). ``python -c pass`` is the floor.

Random weights, vocab 4096: speed does not depend on the values. Threads: whatever numpy/torch pick
(set ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` to pin).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VOCAB = 4096
PROMPT = 16


def decode_rate(model: Any, tokens: int, batch: int = 1, repeats: int = 3) -> tuple[float, float]:
    """(decode tokens/s over all rows, prefill ms); one shared prefill fanned out to ``batch`` rows."""
    prompt = (np.arange(PROMPT) * 37 % VOCAB)[None]  # (1, P)
    steps = min(tokens, model.config.context_length - PROMPT)
    best_rate, best_prefill = 0.0, float("inf")
    for _ in range(repeats):
        cache = model.new_cache(1)
        t0 = time.perf_counter()
        logits = model.forward(prompt, cache, last_only=True)
        t1 = time.perf_counter()
        if batch > 1:
            cache = cache.repeat(batch)
        token = np.full((batch, 1), int(logits[0, -1].argmax()))
        for _ in range(steps):
            logits = model.forward(token, cache, last_only=True)  # (B, 1, V)
            token = logits[:, -1].argmax(axis=-1)[:, None]
        t2 = time.perf_counter()
        best_rate = max(best_rate, batch * steps / (t2 - t1))
        best_prefill = min(best_prefill, (t1 - t0) * 1e3)
    return best_rate, best_prefill


def raw_decode(presets: list[str], tokens: int) -> list[dict[str, Any]]:
    from bash_ai.checkpoint import load_into_torch, random_weights
    from bash_ai.config import preset
    from bash_ai.model.numpy_gpt import NumpyGPT
    from bash_ai.model.torch_gpt import GPT, TorchLogitsModel

    rows = []
    for name in presets:
        config = preset(name, VOCAB)
        weights = random_weights(config, seed=0)
        numpy_model = NumpyGPT(config, weights)
        torch_gpt = GPT(config)
        load_into_torch(torch_gpt, weights)
        torch_model = TorchLogitsModel(torch_gpt)
        decode_rate(numpy_model, 8, repeats=1)  # warm-up (BLAS threads, allocator)
        decode_rate(torch_model, 8, repeats=1)
        np_rate, np_prefill = decode_rate(numpy_model, tokens)
        t_rate, t_prefill = decode_rate(torch_model, tokens)
        np_b4, _ = decode_rate(numpy_model, tokens // 2, batch=4)
        t_b4, _ = decode_rate(torch_model, tokens // 2, batch=4)
        rows.append(
            dict(preset=name, params=config.num_parameters(), numpy=np_rate, torch=t_rate,
                 numpy_prefill=np_prefill, torch_prefill=t_prefill, numpy_b4=np_b4, torch_b4=t_b4)
        )  # fmt: skip
        print(f"  {name}: numpy {np_rate:,.0f} tok/s, torch {t_rate:,.0f} tok/s", flush=True)
    return rows


NUMPY_COLD = """
import numpy as np
from bash_ai.checkpoint import load_numpy_model
model = load_numpy_model({path!r})
logits = model.forward((np.arange({p}) * 37 % {v})[None], model.new_cache(1), last_only=True)
"""

TORCH_COLD = """
import numpy as np
import torch
from bash_ai.checkpoint import load_into_torch, load_weights
from bash_ai.model.torch_gpt import GPT
config, weights = load_weights({path!r})
model = GPT(config).eval()
load_into_torch(model, weights)
with torch.inference_mode():
    logits = model(torch.from_numpy((np.arange({p}) * 37 % {v})[None]))[0][:, -1]
"""


def cold_runs(code: str, runs: int) -> float:
    """Median wall seconds of ``runs`` fresh interpreters running ``code``."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cold_start(preset_name: str, runs: int) -> dict[str, float]:
    from bash_ai.checkpoint import random_weights, save_model_dir
    from bash_ai.config import preset

    config = preset(preset_name, VOCAB)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(save_model_dir(Path(tmp) / "model", config, random_weights(config)))
        fill = dict(path=path, p=PROMPT, v=VOCAB)
        return {
            "python": cold_runs("pass", runs),
            "numpy": cold_runs(NUMPY_COLD.format(**fill), runs),
            "torch": cold_runs(TORCH_COLD.format(**fill), runs),
        }


def report(rows: list[dict[str, Any]], cold: dict[str, float], cold_preset: str, tokens: int) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; vocab {VOCAB}, {PROMPT}-token prompt then up to {tokens} decode steps "
        f"(batch 4: {tokens // 2} steps after a shared prefill); torch = TorchLogitsModel (KV cache).",
        "",
        "| preset | params | numpy tok/s | torch tok/s | numpy / torch | batch-4 numpy / torch tok/s | "
        "prefill numpy / torch ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['preset']} | {r['params'] / 1e6:.2f}M | {r['numpy']:,.0f} | {r['torch']:,.0f} | "
            f"{r['numpy'] / r['torch']:.2f}x | {r['numpy_b4']:,.0f} / {r['torch_b4']:,.0f} | "
            f"{r['numpy_prefill']:.2f} / {r['torch_prefill']:.2f} |"
        )
    lines += [
        "",
        f"Cold start to first logits (`{cold_preset}`, median of fresh processes): "
        f"numpy {cold['numpy']:.2f} s, torch {cold['torch']:.2f} s "
        f"({cold['torch'] / cold['numpy']:.1f}x), bare `python -c pass` {cold['python']:.2f} s.",
    ]
    return "\n".join(lines)


# -- Engine part (the generation engine on top of the numpy runtime) -----------------------------
#
# The peer is the raw greedy loop above (``decode_rate``) on the same model: the ratio is what the
# engine adds per token (sampling, UTF-8/stop-string text stream, events). Also: one ``n=4`` call
# (shared prefill, one batch) against four ``n=1`` calls, and the sampling settings' cost.


class BenchTokenizer:
    """Byte-level ids; its end-of-text id is outside the model's vocabulary, so a random model
    never ends early and every run decodes exactly ``max_tokens``."""

    special_tokens: dict[str, int] = {"<|endoftext|>": VOCAB}
    eot_id = VOCAB
    vocab_size = VOCAB

    def encode(self, text: str, allowed_special: Any = "all") -> list[int]:
        return list(text.encode())

    def decode_bytes(self, ids: list[int]) -> bytes:
        return bytes(i % 256 for i in ids)


def engine_wall(engine: Any, params: Any, n: int, repeats: int = 3) -> tuple[float, float]:
    """(best wall seconds of a whole ``stream`` call, its time to the first token)."""
    prompt = [int(i) for i in np.arange(PROMPT) * 37 % VOCAB]
    best, first = float("inf"), 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        t_first = None
        for event in engine.stream(prompt, params, n):
            if t_first is None and type(event).__name__ == "TokenEvent":
                t_first = time.perf_counter() - t0
        wall = time.perf_counter() - t0
        if wall < best:
            best, first = wall, t_first or 0.0
    return best, first


def engine_part(preset_name: str, tokens: int) -> dict[str, Any]:
    from bash_ai.checkpoint import random_weights
    from bash_ai.config import preset
    from bash_ai.engine import Engine, SamplingParams
    from bash_ai.model.numpy_gpt import NumpyGPT

    config = preset(preset_name, VOCAB)
    model = NumpyGPT(config, random_weights(config, seed=0))
    engine = Engine(model, BenchTokenizer(), preset_name)
    steps = min(tokens, config.context_length // 2)
    greedy = SamplingParams(temperature=0.0, max_tokens=steps)
    default = SamplingParams(max_tokens=steps, seed=0)  # temperature 0.7, top_k 40, top_p 0.95
    nucleus = SamplingParams(top_k=None, max_tokens=steps, seed=0)
    decode_rate(model, 8, repeats=1)  # warm-up
    raw_rate, raw_prefill = decode_rate(model, steps)
    raw_wall = raw_prefill / 1e3 + steps / raw_rate
    row: dict[str, Any] = dict(preset=preset_name, steps=steps, raw=raw_wall)
    row["greedy"], row["ttft"] = engine_wall(engine, greedy, 1)
    row["default"], _ = engine_wall(engine, default, 1)
    row["nucleus"], _ = engine_wall(engine, nucleus, 1)
    row["n4"], _ = engine_wall(engine, default, 4)
    print(f"  {preset_name}: raw {raw_wall * 1e3:.1f} ms, engine greedy {row['greedy'] * 1e3:.1f} ms", flush=True)
    return row


def engine_report(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"Engine on the numpy runtime, batch 1 unless noted, {PROMPT}-token prompt, wall time of a whole "
        "call (prefill + decode), best of 3. raw = the greedy loop without the engine.",
        "",
        "| preset | tokens | raw ms | engine greedy ms (overhead) | default sampling ms | top-p only ms | "
        "n=4 in one call vs 4 calls | time to first token ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['preset']} | {r['steps']} | {r['raw'] * 1e3:.1f} | {r['greedy'] * 1e3:.1f} "
            f"({(r['greedy'] / r['raw'] - 1) * 100:+.0f}%) | {r['default'] * 1e3:.1f} | {r['nucleus'] * 1e3:.1f} | "
            f"{r['n4'] * 1e3:.1f} vs {4 * r['default'] * 1e3:.1f} ({4 * r['default'] / r['n4']:.1f}x) | "
            f"{r['ttft'] * 1e3:.2f} |"
        )
    return "\n".join(lines)


# The children below load numpy as the CLI does (``import_numpy_single_threaded``: a one-thread
# BLAS); this script's own numpy has the default thread count, which would skew both parts.
_DECODE_LOOP = r"""
import sys, threading, time
from bash_ai.api import import_numpy_single_threaded, load_engine
import_numpy_single_threaded()
import numpy as np
model = load_engine(sys.argv[1]).model
rows, steps, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def run():
    cache = model.new_cache(rows)
    ids = np.ones((rows, 1), dtype=np.int64)
    for _ in range(steps):
        model.forward(ids, cache, last_only=True)
        if cache.length >= model.config.context_length - 1:
            cache.length = 0
run()  # warm up
sys.stdout.write("ready\n"); sys.stdout.flush(); sys.stdin.readline()
start = time.perf_counter()
pool = [threading.Thread(target=run) for _ in range(threads)]
for t in pool: t.start()
for t in pool: t.join()
print(time.perf_counter() - start)
"""


def _decode_processes(model_dir: Path, count: int, rows: int, steps: int, threads: int = 1) -> float:
    """Wall time of ``count`` processes, each decoding ``steps`` steps in each of ``threads``
    threads, all started together."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _DECODE_LOOP, str(model_dir), str(rows), str(steps), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate()
    return time.perf_counter() - start


def threads_part(model_dir: Path, steps: int = 300) -> str:
    """Decode steps of the real model (KV cache, ``last_only``, one-thread BLAS as in the CLI): one
    decode alone, then two at once, as two processes and as two threads of one process (as the
    unbatched server runs its workers). Speedup: 2 x alone / together (2.00 = perfect)."""
    lines = []
    for rows in (1, 5):
        alone = _decode_processes(model_dir, 1, rows, steps)
        processes = _decode_processes(model_dir, 2, rows, steps)
        threads = _decode_processes(model_dir, 1, rows, steps, threads=2)
        lines.append(
            f"{rows} row(s) per step: alone {alone / steps * 1000:.2f} ms/step; two at once: processes "
            f"{2 * alone / processes:.2f}x, threads {2 * alone / threads:.2f}x"
        )
    return "\n".join(lines)


_PROPOSE_AB = r"""
import statistics, sys, time
from bash_ai.api import import_numpy_single_threaded, load_engine
import_numpy_single_threaded()
from concurrent.futures import Future
from bash_ai.answer import answer
from bash_ai.engine import propose

class Inline:  # the sequential peer: the pooled commands scored in the caller's thread, first
    def submit(self, fn, *args):
        future = Future(); future.set_result(fn(*args)); return future

requests, rounds = sys.argv[2].split("|"), int(sys.argv[3])
engine = load_engine(sys.argv[1])
shipped = propose._scoring_pool
for request in requests:
    answer(engine, request)  # warm the caches both share
times = {"sequential": [], "concurrent": []}
for _ in range(rounds):
    for request in requests:
        texts = {}
        for mode in times:
            propose._scoring_pool = shipped if mode == "concurrent" else Inline
            start = time.perf_counter()
            texts[mode] = [c.text for c in answer(engine, request, n=5)]
            times[mode].append(time.perf_counter() - start)
        if texts["sequential"] != texts["concurrent"]:
            sys.exit(f"error: different answers for {request!r}")
seq, con = (statistics.median(times[m]) * 1000 for m in times)
print(f"answer latency, {len(times['concurrent'])} answers each, median: sequential {seq:.0f} ms, "
      f"concurrent {con:.0f} ms")
print(f"concurrent/sequential: {con / seq:.2f}x")
"""

_ROWS = r"""
import sys, time
from bash_ai.api import import_numpy_single_threaded, load_engine
import_numpy_single_threaded()
import numpy as np
import bash_ai.model.numpy_gpt as ng
model = load_engine(sys.argv[1]).model
def step_ms(rows, gemv_rows, block_bytes):
    ng.GEMV_ROWS, ng.BLOCK_BYTES = gemv_rows, block_bytes
    cache = model.new_cache(rows)
    ids = np.ones((rows, 1), dtype=np.int64)
    for _ in range(30):
        model.forward(ids, cache, last_only=True)
    cache.length = 100
    start = time.perf_counter()
    for _ in range(100):
        model.forward(ids, cache, last_only=True)
    return (time.perf_counter() - start) * 10
shipped = ng.BLOCK_BYTES
ROWS = (2, 3, 4, 5, 6, 8, 10, 12, 16)
for rows in ROWS:
    ways = {"one sgemm": ((99, 0), shipped), "a gemv per row": ((1, 99), 1 << 40), "a gemv per row, blocked": ((1, 99), shipped)}
    ms = {}
    for _ in range(3):  # rounds alternate the ways; best of 3
        for name, setting in ways.items():
            ms[name] = min(ms.get(name, 1e9), step_ms(rows, *setting))
    gemm = ms["one sgemm"]
    print(f"{rows} rows per step: " + ", ".join(f"{k} {v:.2f} ms ({v / gemm:.2f}x)" for k, v in ms.items()))
"""


def _child(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter (numpy loaded there as the CLI loads it); its stdout."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "error: the child failed")
    return done.stdout.strip()


def rows_part(model_dir: Path) -> str:
    """A decode step of the real model (cache at 100 tokens, one-thread BLAS as the CLI loads
    numpy) with its matmuls as one sgemm, as one gemv per row, or as one gemv per row over
    L2-sized blocks of the weight, by rows: where ``GEMV_ROWS`` and ``BLOCK_BYTES`` come from.
    Best of 3 x 100 steps each, the three ways alternating."""
    return _child(_ROWS, str(model_dir))


PROPOSE_REQUESTS = (
    "find files larger than 100MB",
    "list files sorted by size",
    "count the words in essay.txt",
    "show disk usage",
    "compress the logs directory",
    "delete all .tmp files older than 7 days",
    "print the second column of data.csv",
    "show the last 20 lines of app.log",
    "find python files containing TODO",
    "make script.sh executable",
)


_FLOPS = r"""
import os, sys, threading, time, statistics
from collections import Counter
from bash_ai.api import import_numpy_single_threaded, load_engine, decode_config
import_numpy_single_threaded()
import numpy as np
import bash_ai.model.numpy_gpt as G
from bash_ai.engine.propose import propose
from bash_ai.model import blas
engine, requests = load_engine(sys.argv[1]), sys.argv[2].split("|")
config = decode_config(96)
PARTS = ("hinted_candidates", "structure_logprobs", "review_logprobs", "sequence_logprobs", "beam_search", "prefill")
INNER = ("sequence_logprobs", "prefill")  # also called from inside the parts above them
counts, plain = Counter(), G._linear
def counted(x, weight):
    out = plain(x, weight)
    frame, part = sys._getframe(1), "other"
    while frame is not None:  # the outermost part on the stack
        if frame.f_code.co_name in PARTS and part in ("other", *INNER):
            part = frame.f_code.co_name
        frame = frame.f_back
    counts[part] += 2 * x.shape[0] * x.shape[-1] * out.shape[-1]
    return out
times = []
for request in requests:
    propose(engine, request, config)  # warm up
    start = time.perf_counter()
    propose(engine, request, config)
    times.append(time.perf_counter() - start)
G._linear = counted
for request in requests:
    propose(engine, request, config)
G._linear = plain
# the machine's fp32 rate on a prefill-sized product (100 tokens x d 384 -> 1536), 1 and 2 BLAS threads
a, w = np.random.rand(100, 384).astype(np.float32), np.random.rand(1536, 384).astype(np.float32)
def rate(n_threads):
    with blas.threads(n_threads):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(200):
                (w @ a.T)
            best = min(best, time.perf_counter() - start)
    return 200 * 2 * 100 * 384 * 1536 / best
one = rate(1)
total = sum(counts.values()) / len(requests)
print(f"answer in-process: median {statistics.median(times) * 1e3:.0f} ms (10 requests, after a warm-up)")
print(f"arithmetic per answer: {total / 1e9:.2f} GFLOP (mean of the 10)")
for part, n in counts.most_common():
    print(f"  {part}: {n / len(requests) / 1e9:.2f} GFLOP")
cores = os.cpu_count() or 1
print(f"fp32 rate, a prefill-sized product on one thread: {one / 1e9:.0f} GFLOP/s")
print(f"floor, every product at that rate on all {cores} cores at once: {total / (one * cores) * 1e3:.0f} ms")
"""


def flops_part(model_dir: Path) -> str:
    """Where an answer's time goes: the multiply-adds of each part of ``propose`` for the 10 requests
    (counted in ``numpy_gpt._linear``; attention and the rest are left out), this machine's fp32 rate
    on one thread for a product of a prefill's size, and the time the arithmetic alone would take
    with every core at that rate (a floor: the parts wait on each other)."""
    return _child(_FLOPS, str(model_dir), "|".join(PROPOSE_REQUESTS))


def propose_part(model_dir: Path, rounds: int) -> str:
    """One answer (``bash_ai.answer.answer``: beam search, pooled commands scored, checks) per
    request, with the pooled commands scored in a second thread beside the beams (as shipped) or
    before them in the same thread (the peer), alternating request by request; same answers required."""
    return _child(_PROPOSE_AB, str(model_dir), "|".join(PROPOSE_REQUESTS), str(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "mini", "small"])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--cold-preset", default="mini")
    parser.add_argument(
        "--part", choices=["all", "runtime", "engine", "threads", "propose", "rows", "flops"], default="all"
    )
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "model")
    parser.add_argument("--rounds", type=int, default=3, help="--part propose: passes over its 10 requests")
    args = parser.parse_args()
    if args.part == "threads":
        print(threads_part(args.model))
        return
    if args.part == "rows":
        print(rows_part(args.model))
        return
    if args.part == "propose":
        print(propose_part(args.model, args.rounds))
        return
    if args.part == "flops":
        print(flops_part(args.model))
        return
    if args.part in ("all", "runtime"):
        print("warm decode (batch 1, KV cache):", flush=True)
        rows = raw_decode(args.presets, args.tokens)
        print(f"cold start ({args.cold_preset}):", flush=True)
        cold = cold_start(args.cold_preset, args.cold_runs)
        print()
        print(report(rows, cold, args.cold_preset, args.tokens))
    if args.part in ("all", "engine"):
        print("engine:", flush=True)
        engine_rows = [engine_part(name, args.tokens) for name in args.presets]
        print()
        print(engine_report(engine_rows))


if __name__ == "__main__":
    main()
