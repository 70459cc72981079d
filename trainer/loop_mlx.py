"""The MLX training loop: the same recipe as the PyTorch one, for Apple silicon (and Linux CPU).

The step is ``mx.compile``d; gradients are accumulated as trees; state is saved in the same
framework-free format as the PyTorch loop, so a run can continue in either framework.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from bash_ai.config import ModelConfig
from trainer.batches import BatchSource
from trainer.progress import Reporter, StepLogger
from trainer.run_dir import RunDir
from trainer.train_config import TrainConfig


def _loss_fn(model: Any, x: Any, y: Any, mask: Any) -> Any:
    import mlx.core as mx
    import mlx.nn as nn

    logits = model(x)  # (B, T, V)
    losses = nn.losses.cross_entropy(logits, y, reduction="none")  # (B, T)
    m = mask.astype(losses.dtype)
    return (losses * m).sum() / mx.maximum(m.sum(), 1.0)


def train_mlx(
    cfg: TrainConfig,
    model_config: ModelConfig,
    tokenizer: Any,
    train_data: BatchSource,
    val_data: BatchSource | None,
    run: RunDir,
    init_weights: dict[str, np.ndarray] | None = None,
    resume: bool = False,
    stop_after: int | None = None,
) -> dict[str, Any]:
    from trainer.mlx_blas import use_fast_blas

    blas_note = use_fast_blas(threads=cfg.threads)  # must precede the first ``import mlx.core``
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from mlx.utils import tree_flatten, tree_map, tree_unflatten

    from bash_ai.checkpoint import load_into_mlx, mlx_params_to_numpy
    from bash_ai.model.mlx_gpt import GPT

    mx.random.seed(cfg.seed)
    model = GPT(model_config)
    optimizer = optim.AdamW(learning_rate=cfg.lr, betas=[cfg.beta1, cfg.beta2], eps=1e-8, weight_decay=cfg.weight_decay)
    start_step, tokens_seen = 0, 0
    if resume and run.has_checkpoint():
        saved_config, weights, opt_tensors, state = run.load_checkpoint()
        if saved_config != model_config:
            from bash_ai.errors import CheckpointError

            raise CheckpointError(f"{run.latest}: the checkpoint's model config differs from this run's")
        load_into_mlx(model, weights)
        optimizer.init(model.trainable_parameters())
        if state.get("backend") == "mlx":
            restored = tree_unflatten([(k, mx.array(v)) for k, v in opt_tensors.items()])
            optimizer.state = restored
        train_data.load_state_dict(state["data"])
        start_step, tokens_seen = state["step"], state["tokens_seen"]
    elif init_weights is not None:
        load_into_mlx(model, init_weights)
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

    reporter = Reporter(cfg.num_steps, start_step, title="training (mlx)")
    if blas_note:
        reporter.message(blas_note)
    tokens_per_step = cfg.batch_size * cfg.grad_accum * model_config.context_length
    steps_log = StepLogger(run, reporter, tokens_seen)
    end_step = cfg.num_steps if stop_after is None else min(cfg.num_steps, start_step + stop_after)
    loss_value = float("nan")
    model.train()
    for step in range(start_step, end_step):
        optimizer.learning_rate = mx.array(cfg.lr_at(step))
        total = mx.array(0.0)
        grads: Any = None
        for _ in range(cfg.grad_accum):
            x, y, mask = (mx.array(a) for a in train_data.next_batch())
            loss, g = micro_step(x, y, mask)
            grads = g if grads is None else tree_map(lambda a, b: a + b, grads, g)
            total = total + loss
        if cfg.grad_accum > 1:
            grads = tree_map(lambda a: a / cfg.grad_accum, grads)
        apply(grads)
        mx.eval(model.state, optimizer.state, total)
        tokens_seen += tokens_per_step
        done = step + 1
        if done % cfg.log_interval == 0 or done == end_step:
            loss_value = float(total.item()) / cfg.grad_accum  # type: ignore[arg-type]
            steps_log.log(done, loss_value, cfg.lr_at(step), tokens_seen)
        if val_data is not None and (done % cfg.eval_interval == 0 or done == cfg.num_steps):
            losses = [
                float(_loss_fn(model, *(mx.array(a) for a in b)).item())
                for b in val_data.fixed_batches(cfg.eval_batches)
            ]
            val_loss = float(np.mean(losses)) if losses else float("nan")
            run.log({"step": done, "val_loss": val_loss})
            reporter.message(f"step {done}: val loss {val_loss:.4f}")
        if done % cfg.ckpt_interval == 0 or done == end_step:
            opt_tensors = {k: np.array(v) for k, v in tree_flatten(optimizer.state)}  # type: ignore[str-unpack]
            state = {
                "step": done,
                "tokens_seen": tokens_seen,
                "data": train_data.state_dict(),
                "optimizer": {},
                "backend": "mlx",
            }
            run.save_checkpoint(model_config, mlx_params_to_numpy(model), tokenizer, opt_tensors, state)
    reporter.close()
    finished = end_step >= cfg.num_steps
    if finished:
        run.finish()
    return {"steps": end_step, "tokens": tokens_seen, "loss": loss_value, "finished": finished}
