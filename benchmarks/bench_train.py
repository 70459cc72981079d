"""Training throughput and memory: our PyTorch and MLX stages against a plain nanoGPT-style loop.

Every measurement runs in its own subprocess (so peak RSS is per stage), on random tokens
(throughput does not depend on the data), after warm-up steps that are not timed. The peer and
our PyTorch loop alternate for ``--rounds`` rounds and the median is reported, so a neighbour's
burst on a shared machine does not decide the ratio.

    python benchmarks/bench_train.py                  # the ~12M config: 6 layers, width 384, T=256, B=16
    python benchmarks/bench_train.py --part mlx       # MLX: BLAS, compile, dtype, streams, batch size
    python benchmarks/bench_train.py --part rss --rss-presets small medium
    python benchmarks/bench_train.py --part precision  # fp32 vs bf16 autocast: tok/s and val loss

MLX's Linux wheel multiplies matrices with netlib's reference BLAS; ``--mlx-blas auto`` (the
default when OpenBLAS is installed) also measures our MLX loop with OpenBLAS put in front of it
(``BASH_AI_MLX_BLAS``, see trainer/mlx_blas.py).

Model FLOPs utilisation = tokens/s x training FLOPs per token / measured fp32 matmul peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VOCAB = 4096


class RandomTokens:
    """A BatchSource of uniform random tokens (deterministic per step)."""

    def __init__(self, rows: int, block: int, seed: int = 0) -> None:
        self.rows, self.block, self.seed, self.pos = rows, block, seed, 0

    def _batch(self, index: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.random.default_rng([seed, index]).integers(0, VOCAB, (self.rows, self.block + 1))
        return ids[:, :-1].astype(np.int64), ids[:, 1:].astype(np.int64), np.ones((self.rows, self.block), bool)

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.pos += 1
        return self._batch(self.pos, self.seed)

    def fixed_batches(self, n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [self._batch(i, self.seed + 1) for i in range(n)]

    def state_dict(self) -> dict[str, Any]:
        return {"pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos = state["pos"]


def matmul_peak(lib: str, dtype: str, n: int = 2048, budget_s: float = 4.0) -> float:
    """GFLOP/s of an n^3 matmul, repeated for about ``budget_s`` (at least once after a warm-up)."""
    if lib == "torch":
        import torch

        a, b = (torch.randn(n, n).to(getattr(torch, dtype)) for _ in range(2))

        def run() -> None:
            a @ b
    else:
        from trainer.mlx_blas import use_fast_blas

        use_fast_blas()
        import mlx.core as mx

        c, d = (mx.random.normal((n, n)).astype(getattr(mx, dtype)) for _ in range(2))
        mx.eval(c, d)

        def run() -> None:
            mx.eval(c @ d)

    run()
    reps, start = 0, time.perf_counter()
    while reps < 1 or (time.perf_counter() - start < budget_s and reps < 20):
        run()
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


class PatternTokens(RandomTokens):
    """Learnable rows: each an arithmetic progression mod VOCAB (random start and stride 1..7), so
    the loss falls and two precisions can be compared on what they learn, not only on speed."""

    def _batch(self, index: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, index])
        start = rng.integers(0, VOCAB, (self.rows, 1))
        stride = rng.integers(1, 8, (self.rows, 1))
        ids = (start + stride * np.arange(self.block + 1)[None, :]) % VOCAB
        return ids[:, :-1].astype(np.int64), ids[:, 1:].astype(np.int64), np.ones((self.rows, self.block), bool)


def precision_run(config: Any, rows: int, steps: int, precision: str) -> dict[str, float]:
    """``steps`` PyTorch steps of our loop at ``precision`` on PatternTokens: tok/s over the steps
    after the first logged interval, and the validation loss at the end (same data, same seed)."""
    import tempfile

    from trainer.loop import TrainJob
    from trainer.loop_torch import train_torch
    from trainer.run_dir import RunDir
    from trainer.train_config import TrainConfig

    class NoTokenizer:
        def save(self, path: Path) -> None:
            Path(path).write_text("{}")

    cfg = TrainConfig(
        backend="torch",
        num_steps=steps,
        batch_size=rows,
        lr=1e-3,
        warmup_steps=10,
        log_interval=10,
        eval_interval=steps,
        eval_batches=4,
        ckpt_interval=10**6,
        precision=precision,  # type: ignore[arg-type]
        seed=0,
    )
    block = config.context_length
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        train_torch(
            TrainJob(cfg, config, NoTokenizer(), PatternTokens(rows, block), PatternTokens(rows, block, seed=99), run)
        )
        records = list(run.metrics())
    logged = [r for r in records if "tokens_per_s" in r]
    first, last = logged[0], logged[-1]
    val = [r["val_loss"] for r in records if "val_loss" in r]
    return {
        "tok_s": (last["tokens"] - first["tokens"]) / (last["elapsed_s"] - first["elapsed_s"]),
        "val_loss": val[-1],
    }


def nanogpt_peer(config: Any, rows: int, steps: int, warmup: int) -> float:
    """A plain nanoGPT-style model, init and loop (biases, LayerNorm, GELU, fused SDPA), written here."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    C, H = config.d_model, config.n_head

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.fc, self.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class Peer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, C), nn.Embedding(config.context_length, C)
            self.blocks = nn.ModuleList(Block() for _ in range(config.n_layer))
            self.ln_f = nn.LayerNorm(C)

        def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.T
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    torch.manual_seed(0)
    model = Peer()
    # nanoGPT's init. PyTorch's defaults (N(0, 1) embeddings, here also the tied head) give huge
    # logits whose softmax underflows into denormal floats within ~10 steps: 3-4x slower steps.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                residual = name.endswith(("proj.weight", "out.weight"))
                nn.init.normal_(p, 0.0, 0.02 / (2 * config.n_layer) ** 0.5 if residual else 0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    data = RandomTokens(rows, config.context_length)
    start = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        x, y, _ = data.next_batch()
        loss = model(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return steps * rows * config.context_length / (time.perf_counter() - start)


def ours(backend: str, config: Any, rows: int, steps: int, warmup: int) -> float:
    import tempfile

    from trainer.run_dir import RunDir
    from trainer.train_config import TrainConfig

    class NoTokenizer:
        def save(self, path: Path) -> None:
            Path(path).write_text("{}")

    cfg = TrainConfig(
        backend=backend,  # type: ignore[arg-type]
        num_steps=warmup + steps,
        batch_size=rows,
        warmup_steps=1,
        log_interval=warmup,
        eval_interval=10**6,
        ckpt_interval=10**6,
    )
    from trainer.loop import TrainJob

    if backend == "torch":
        from trainer.loop_torch import train_torch as train
    else:
        from trainer.loop_mlx import train_mlx as train  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        # The untimed warm-up steps (mlx compiles its step here) are the first logged interval.
        train(TrainJob(cfg, config, NoTokenizer(), RandomTokens(rows, config.context_length), None, run))
        logged = [r for r in run.metrics() if "tokens_per_s" in r]
    first, last = logged[0], logged[-1]
    return (last["tokens"] - first["tokens"]) / (last["elapsed_s"] - first["elapsed_s"])


def child(args: argparse.Namespace) -> None:
    from bash_ai.config import preset

    config = preset(args.preset, VOCAB)
    if args.child == "peak":
        value = matmul_peak(args.lib, args.dtype)
    elif args.child == "peer":
        value = nanogpt_peer(config, args.batch, args.steps, args.warmup)
    elif args.child in ("fp32", "bf16"):
        result = precision_run(config, args.batch, args.steps, args.child)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"value": result["tok_s"], "val_loss": result["val_loss"], "rss_mb": rss_mb}))
        return
    elif args.child == "mlxstep":
        from mlx_study import mlx_step

        value = mlx_step(config, args.batch, args.steps, args.warmup, args.variant)
    else:
        value = ours(args.child, config, args.batch, args.steps, args.warmup)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"value": value, "rss_mb": rss_mb}))


def run_child(kind: str, blas: str = "", **opts: Any) -> dict[str, float]:
    """One measurement in a fresh process; ``blas`` sets BASH_AI_MLX_BLAS ('' = MLX's own BLAS)."""
    cmd = [sys.executable, __file__, "--child", kind]
    for key, value in opts.items():
        cmd += [f"--{key}", str(value)]
    env = {**os.environ, "BASH_AI_MLX_BLAS": blas}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def find_blas(choice: str) -> str:
    if choice != "auto":
        return choice
    from trainer.mlx_blas import find_openblas

    return find_openblas() or ""


def part_throughput(args: argparse.Namespace, blas: str) -> None:
    from bash_ai.config import preset

    config = preset(args.preset, VOCAB)
    flops = config.flops_per_token()
    peak = run_child("peak", lib="torch", dtype="float32")["value"]
    print(f"fp32 matmul peak (2048^3, torch, all threads): {peak:.0f} GFLOP/s")
    runs: dict[str, list[dict[str, float]]] = {"peer": [], "torch": []}
    for _ in range(args.rounds):
        for kind in runs:
            runs[kind].append(
                run_child(kind, preset=args.preset, batch=args.batch, steps=args.steps, warmup=args.warmup)
            )
    table = {kind: _median(results) for kind, results in runs.items()}
    mlx_runs = [("mlx", "", args.mlx_ref_batch, args.mlx_ref_steps)] if args.mlx_ref_batch else []
    if blas:
        mlx_runs.append(("mlx+openblas", blas, args.batch, args.mlx_steps))
    for name, lib, rows, steps in mlx_runs:
        table[name] = run_child("mlx", lib, preset=args.preset, batch=rows, steps=steps, warmup=args.mlx_warmup)
        table[name]["batch"] = rows
    for kind, result in table.items():
        mfu = result["value"] * flops / (peak * 1e9)
        spread = ""
        if kind in runs:
            values = sorted(r["value"] for r in runs[kind])
            spread = f"  (rounds: {', '.join(f'{v:,.0f}' for v in values)})"
        batch = int(result.get("batch", args.batch))
        print(
            f"{kind:13s} B={batch:<3d}{result['value']:9,.0f} tok/s  MFU {mfu:5.1%}  "
            f"peak RSS {result['rss_mb']:6.0f} MB{spread}"
        )
    print(f"ours (torch) / nanoGPT-style peer: {table['torch']['value'] / table['peer']['value']:.2f}x")
    best = {kind: max(r["value"] for r in results) for kind, results in runs.items()}
    print(f"  best rounds: {best['torch'] / best['peer']:.2f}x")
    for name, *_ in mlx_runs:
        print(f"ours ({name}) / ours (torch): {table[name]['value'] / table['torch']['value']:.3f}x")


def part_mlx(args: argparse.Namespace, blas: str) -> None:
    """What limits MLX on Linux CPU: the matmul, then the step's options one at a time."""
    matmuls = [("torch", "float32", ""), ("torch", "bfloat16", ""), ("mlx", "float32", "")]
    matmuls += [("mlx", "float32", blas)] if blas else []
    matmuls += [("mlx", "bfloat16", ""), ("mlx", "float16", "")]
    for lib, dtype, lib_blas in matmuls:
        label = f"{lib} {dtype}" + (" + OpenBLAS" if lib_blas else "")
        gflops = run_child("peak", lib_blas, lib=lib, dtype=dtype)["value"]
        print(f"matmul 2048^3 {label:24s} {gflops:7.1f} GFLOP/s")
    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        ref = "refblas" in variant
        rows = args.mlx_ref_batch if ref else args.batch
        if "b=" in variant:
            rows = int(variant.split("b=")[1].split("+")[0])
        steps, warmup = (args.mlx_ref_steps, 1) if ref else (args.mlx_steps, args.mlx_warmup)
        opts = dict(preset=args.preset, batch=rows, steps=steps, warmup=warmup, variant=variant)
        result = run_child("mlxstep", "" if ref else blas, **opts)
        print(f"mlx step {variant:28s} B={rows:<3d}{result['value']:8,.0f} tok/s  peak RSS {result['rss_mb']:5.0f} MB")


def part_rss(args: argparse.Namespace, blas: str) -> None:
    from bash_ai.config import describe, preset

    for name in args.rss_presets:
        for kind in ("torch", "mlx"):
            lib = blas if kind == "mlx" else ""
            result = run_child(kind, lib, preset=name, batch=args.batch, steps=2, warmup=1)
            label = kind + ("+openblas" if lib else "")
            print(f"peak RSS {label:13s} {name:7s} ({describe(preset(name, VOCAB))}): {result['rss_mb']:.0f} MB")


def part_precision(args: argparse.Namespace) -> None:
    """fp32 vs bf16 autocast, side by side in fresh processes: the same steps on the same data."""
    steps = args.precision_steps
    got = {p: run_child(p, preset=args.preset, batch=args.batch, steps=steps) for p in ("fp32", "bf16")}
    print(f"\n## precision ({args.preset}, B={args.batch}, {steps} steps on learnable synthetic rows)\n")
    print("| precision | tok/s | val loss after the steps | peak RSS MiB |\n|---|---:|---:|---:|")
    for name, r in got.items():
        print(f"| {name} | {r['value']:,.0f} | {r['val_loss']:.4f} | {r['rss_mb']:.0f} |")
    speed = got["bf16"]["value"] / got["fp32"]["value"]
    loss = got["bf16"]["val_loss"] / got["fp32"]["val_loss"]
    print(f"\nbf16/fp32 tok/s: {speed:.2f}x, val loss bf16/fp32: {loss:.3f}x")


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["throughput", "mlx", "rss", "precision", "all"], default="all")
    parser.add_argument("--precision-steps", type=int, default=150)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mlx-steps", type=int, default=4)
    parser.add_argument("--mlx-warmup", type=int, default=2)
    # MLX on the reference BLAS takes a minute per B=16 step: a smaller batch, fewer steps (0: skip).
    parser.add_argument("--mlx-ref-batch", type=int, default=4)
    parser.add_argument("--mlx-ref-steps", type=int, default=2)
    parser.add_argument("--mlx-blas", default="auto", help="auto | PATH to a CBLAS | '' (MLX's own only)")
    # Half precision runs at reference-BLAS speed or worse (no OpenBLAS path): only with refblas.
    parser.add_argument(
        "--variants", default="base,nocompile,streams=2,b=8,b=32,refblas,refblas+streams=2,refblas+bfloat16"
    )
    parser.add_argument("--rss-presets", nargs="*", default=["small", "medium"])
    # Child-process options.
    parser.add_argument("--child", default=None)
    parser.add_argument("--lib", default="torch")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--variant", default="base")
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from bash_ai.config import describe, preset

    blas = find_blas(args.mlx_blas)
    print(
        f"# {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, config {args.preset}: "
        f"{describe(preset(args.preset, VOCAB))}, B={args.batch}; OpenBLAS for MLX: {blas or 'none'}"
    )
    if args.part in ("throughput", "all"):
        part_throughput(args, blas)
    if args.part in ("mlx", "all"):
        part_mlx(args, blas)
    if args.part in ("rss", "all"):
        part_rss(args, blas)
    if args.part in ("precision", "all"):
        part_precision(args)


if __name__ == "__main__":
    main()
