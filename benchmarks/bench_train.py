"""Training throughput and memory: our PyTorch and MLX stages against a plain nanoGPT-style loop.

Every measurement runs in its own subprocess (so peak RSS is per stage), on random tokens
(throughput does not depend on the data), after warm-up steps that are not timed.

    python benchmarks/bench_train.py                 # the ~12M config: 6 layers, width 384, T=256, B=16
    python benchmarks/bench_train.py --steps 10 --mlx-steps 3 --rss-presets small medium

Model FLOPs utilisation = tokens/s x training FLOPs per token / measured fp32 matmul peak.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
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


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def nanogpt_peer(config: Any, rows: int, steps: int, warmup: int) -> float:
    """A plain nanoGPT-style model and loop (biases, LayerNorm, GELU, fused SDPA), written here."""
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
    if backend == "torch":
        from trainer.loop_torch import train_torch as train
    else:
        from trainer.loop_mlx import train_mlx as train  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        # The untimed warm-up steps (mlx compiles its step here) are the first logged interval.
        train(cfg, config, NoTokenizer(), RandomTokens(rows, config.context_length), None, run)
        logged = [r for r in run.metrics() if "tokens_per_s" in r]
    first, last = logged[0], logged[-1]
    return (last["tokens"] - first["tokens"]) / (last["elapsed_s"] - first["elapsed_s"])


def child(args: argparse.Namespace) -> None:
    from bash_ai.config import preset

    config = preset(args.preset, VOCAB)
    if args.child == "peak":
        value = matmul_peak()
    elif args.child == "peer":
        value = nanogpt_peer(config, args.batch, args.steps, args.warmup)
    else:
        value = ours(args.child, config, args.batch, args.steps, args.warmup)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"value": value, "rss_mb": rss_mb}))


def run_child(kind: str, preset: str, batch: int, steps: int, warmup: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--preset", preset, "--batch", str(batch)]
    cmd += ["--steps", str(steps), "--warmup", str(warmup)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", default=None)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--mlx-steps", type=int, default=5)
    parser.add_argument("--rss-presets", nargs="*", default=["small", "medium"])
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from bash_ai.config import describe, preset

    config = preset(args.preset, VOCAB)
    print(
        f"# {platform.machine()}, {platform.python_version()}, config {args.preset}: {describe(config)}, B={args.batch}"
    )
    peak = run_child("peak", args.preset, args.batch, 0, 0)["value"]
    print(f"fp32 matmul peak (2048^3, torch): {peak:.0f} GFLOP/s")
    flops = config.flops_per_token()
    rows = []
    for kind, steps in (("peer", args.steps), ("torch", args.steps), ("mlx", args.mlx_steps)):
        result = run_child(kind, args.preset, args.batch, steps, args.warmup)
        mfu = result["value"] * flops / (peak * 1e9)
        rows.append((kind, result["value"], mfu, result["rss_mb"]))
        print(f"{kind:6s} {result['value']:9,.0f} tok/s  MFU {mfu:5.1%}  peak RSS {result['rss_mb']:7.0f} MB")
    peer_tps = rows[0][1]
    print(f"ours (torch) / nanoGPT-style peer: {rows[1][1] / peer_tps:.2f}x")
    print(f"ours (mlx) / ours (torch): {rows[2][1] / rows[1][1]:.3f}x")
    for name in args.rss_presets:
        for kind in ("torch", "mlx"):
            result = run_child(kind, name, args.batch, 2 if kind == "torch" else 1, 1)
            print(f"peak RSS {kind:5s} {name:7s} ({describe(preset(name, VOCAB))}): {result['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
