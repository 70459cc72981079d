"""The MLX training step of trainer/loop_mlx.py with one option changed at a time (bench_train --part mlx).

A variant is '+'-joined words: ``base`` (compiled fp32 step, as the loop), ``nocompile``,
``bfloat16`` / ``float16`` (mixed precision: fp32 master weights and loss, half-precision
forward and backward), ``streams=N`` (the batch split over N CPU streams, each its own thread),
``b=N`` and ``refblas`` (only read by the caller: batch size, and MLX's own BLAS).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np


def mlx_step(config: Any, rows: int, steps: int, warmup: int, variant: str) -> float:
    """Tokens/s of ``steps`` timed training steps after ``warmup`` untimed ones."""
    from trainer.mlx_blas import use_fast_blas

    use_fast_blas()
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from mlx.utils import tree_map

    from bash_ai.model.mlx_gpt import GPT

    words = set(variant.split("+"))
    dtype = mx.bfloat16 if "bfloat16" in words else mx.float16 if "float16" in words else mx.float32
    n_streams = next((int(w.split("=")[1]) for w in words if w.startswith("streams=")), 1)
    mx.random.seed(0)
    model = GPT(config)
    mx.eval(model.parameters())
    optimizer = optim.AdamW(learning_rate=1e-4, betas=[0.9, 0.95], eps=1e-8, weight_decay=0.1)

    def summed_loss(params: Any, x: Any, y: Any, mask: Any) -> Any:
        model.update(params if dtype == mx.float32 else tree_map(lambda p: p.astype(dtype), params))
        logits = model(x).astype(mx.float32)  # (B, T, V)
        losses = nn.losses.cross_entropy(logits, y, reduction="none")  # (B, T)
        return (losses * mask.astype(mx.float32)).sum()

    value_and_grad = mx.value_and_grad(summed_loss)

    def grads_of(x: Any, y: Any, mask: Any) -> tuple[Any, Any]:
        master = model.trainable_parameters()
        loss, grads = value_and_grad(master, x, y, mask)  # gradients arrive in the master's dtype
        model.update(master)
        return loss, grads

    streams = [mx.default_stream(mx.cpu)] + [mx.new_stream(mx.cpu) for _ in range(n_streams - 1)]

    def micro_step(x: Any, y: Any, mask: Any) -> tuple[Any, Any]:
        parts = []
        for stream, xs, ys, ms in zip(streams, *(mx.split(a, n_streams) for a in (x, y, mask)), strict=True):
            with mx.stream(stream):
                parts.append(grads_of(xs, ys, ms))
        count = mx.maximum(mask.astype(mx.float32).sum(), 1.0)
        loss, grads = parts[0]
        for other_loss, other in parts[1:]:
            loss = loss + other_loss
            grads = tree_map(lambda a, b: a + b, grads, other)
        return loss / count, tree_map(lambda g: g / count, grads)

    def apply(grads: Any) -> None:
        grads, _ = optim.clip_grad_norm(grads, 1.0)
        optimizer.update(model, grads)

    if "nocompile" not in words:
        state = [model.state, optimizer.state]
        micro_step = partial(mx.compile, inputs=state, outputs=state)(micro_step)
        apply = partial(mx.compile, inputs=state, outputs=state)(apply)
    rng = np.random.default_rng(0)
    t = config.context_length
    start = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        ids = rng.integers(0, config.vocab_size, (rows, t + 1))
        x, y, mask = mx.array(ids[:, :-1]), mx.array(ids[:, 1:]), mx.array(np.ones((rows, t), bool))
        loss, grads = micro_step(x, y, mask)
        apply(grads)
        mx.eval(model.state, optimizer.state, loss)
    return steps * rows * t / (time.perf_counter() - start)
