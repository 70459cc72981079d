"""The MLX training loop: the same recipe as the PyTorch one, for Apple silicon (and Linux CPU).

The step is ``mx.compile``d; gradients are accumulated as trees; state is saved in the same
framework-free format as the PyTorch loop, so a run can continue in either framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np

from trainer.loop import TrainJob, run_loop


def _loss_fn(model: Any, x: Any, y: Any, mask: Any) -> Any:
    import mlx.core as mx
    import mlx.nn as nn

    logits = model(x)  # (B, T, V)
    losses = nn.losses.cross_entropy(logits, y, reduction="none")  # (B, T)
    m = mask.astype(losses.dtype)
    return (losses * m).sum() / mx.maximum(m.sum(), 1.0)


class MLXFramework:
    """The MLX side of ``trainer.loop.run_loop``: a compiled step, gradients accumulated as trees."""

    main, world, title = True, 1, "training (mlx)"

    def __init__(self, job: TrainJob) -> None:
        from trainer.mlx_blas import use_fast_blas

        self.blas_note = use_fast_blas(threads=job.cfg.threads)  # must precede the first ``import mlx.core``
        import mlx.core as mx
        import mlx.optimizers as optim

        from bash_ai.model.mlx_gpt import GPT

        cfg = self.cfg = job.cfg
        self.train_data = job.train_data
        mx.random.seed(cfg.seed)
        self.model = GPT(job.model_config)
        self.optimizer = optim.AdamW(
            learning_rate=cfg.lr, betas=[cfg.beta1, cfg.beta2], eps=1e-8, weight_decay=cfg.weight_decay
        )

    def load(self, weights: dict[str, np.ndarray]) -> None:
        from bash_ai.checkpoint import load_into_mlx

        load_into_mlx(self.model, weights)

    def restore(self, opt_tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        import mlx.core as mx
        from mlx.utils import tree_unflatten

        self.optimizer.init(self.model.trainable_parameters())
        if state.get("backend") == "mlx":  # a PyTorch checkpoint's moments start afresh
            self.optimizer.state = tree_unflatten([(k, mx.array(v)) for k, v in opt_tensors.items()])

    def ready(self) -> list[str]:
        import mlx.core as mx
        import mlx.nn as nn
        import mlx.optimizers as optim

        model, optimizer, cfg = self.model, self.optimizer, self.cfg
        mx.eval(model.parameters())
        loss_and_grad = nn.value_and_grad(model, _loss_fn)
        state_tree = [model.state, optimizer.state]

        @partial(mx.compile, inputs=state_tree, outputs=state_tree)
        def micro_step(x: Any, y: Any, mask: Any) -> tuple[Any, Any]:
            return loss_and_grad(model, x, y, mask)

        @partial(mx.compile, inputs=state_tree, outputs=state_tree)
        def apply(grads: Any) -> None:
            if cfg.grad_clip > 0:
                grads, _ = optim.clip_grad_norm(grads, cfg.grad_clip)
            optimizer.update(model, grads)

        self.micro_step, self.apply = micro_step, apply
        model.train()
        return [self.blas_note] if self.blas_note else []

    def step(self, lr: float) -> Callable[[], float]:
        import mlx.core as mx
        from mlx.utils import tree_map

        cfg = self.cfg
        self.optimizer.learning_rate = mx.array(lr)
        total = mx.array(0.0)
        grads: Any = None
        for _ in range(cfg.grad_accum):
            x, y, mask = (mx.array(a) for a in self.train_data.next_batch())
            loss, g = self.micro_step(x, y, mask)
            grads = g if grads is None else tree_map(lambda a, b: a + b, grads, g)
            total = total + loss
        if cfg.grad_accum > 1:
            grads = tree_map(lambda a: a / cfg.grad_accum, grads)
        self.apply(grads)
        mx.eval(self.model.state, self.optimizer.state, total)
        return lambda: float(total.item()) / cfg.grad_accum  # type: ignore[arg-type]

    def validate(self, batches: Iterable[tuple[np.ndarray, ...]]) -> float:
        import mlx.core as mx

        losses = [float(_loss_fn(self.model, *(mx.array(a) for a in b)).item()) for b in batches]
        return float(np.mean(losses)) if losses else float("nan")

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        from mlx.utils import tree_flatten

        from bash_ai.checkpoint import mlx_params_to_numpy

        opt_tensors = {k: np.array(v) for k, v in tree_flatten(self.optimizer.state)}  # type: ignore[str-unpack]
        return mlx_params_to_numpy(self.model), opt_tensors, {"optimizer": {}, "backend": "mlx"}

    def barrier(self) -> None:
        return None


def train_mlx(job: TrainJob) -> dict[str, Any]:
    """Train ``job`` in MLX; returns a summary (``job.stop_after`` ends early)."""
    return run_loop(job, MLXFramework(job))
