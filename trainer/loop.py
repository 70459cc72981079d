"""The one training-loop skeleton: resume, the step schedule, logging, validation and checkpoints.

Each framework (``trainer/loop_torch.py``, ``trainer/loop_mlx.py``) supplies only what differs:
how to load weights, take one optimizer step, measure the validation loss and export its state.
Checkpoints are framework-free (``RunDir``), so a run can continue in either framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bash_ai.config import ModelConfig
from trainer.batches import BatchSource
from trainer.progress import Reporter, StepLogger
from trainer.run_dir import RunDir
from trainer.train_config import TrainConfig


@dataclass
class TrainJob:
    """Everything a training loop is given: settings, data and where to write."""

    cfg: TrainConfig
    model_config: ModelConfig
    tokenizer: Any
    train_data: BatchSource
    val_data: BatchSource | None
    run: RunDir
    init_weights: dict[str, np.ndarray] | None = None
    resume: bool = False
    stop_after: int | None = None  # end early (checkpointed, resumable) after this many steps


class Framework(Protocol):
    """What a framework does inside the skeleton."""

    main: bool  # this process reports and writes (rank 0)
    world: int  # processes sharing each step (DDP); 1 otherwise
    title: str

    def load(self, weights: dict[str, np.ndarray]) -> None: ...

    def restore(self, opt_tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        """The optimizer state and RNG of a checkpoint (weights are already loaded)."""
        ...

    def ready(self) -> list[str]:
        """Called once before the first step; returns lines to report (precision, BLAS)."""
        ...

    def step(self, lr: float) -> Callable[[], float]:
        """One optimizer step over ``grad_accum`` micro-batches; returns its mean loss, lazily."""
        ...

    def validate(self, batches: Iterable[tuple[np.ndarray, ...]]) -> float: ...

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        """Weights, optimizer tensors and the checkpoint's framework fields."""
        ...

    def barrier(self) -> None: ...


def run_loop(job: TrainJob, fw: Framework) -> dict[str, Any]:
    """Train ``job`` with ``fw``; returns steps, tokens, the last logged loss and ``finished``."""
    cfg, run = job.cfg, job.run
    start_step, tokens_seen = 0, 0
    if job.resume and run.has_checkpoint():
        saved_config, weights, opt_tensors, state = run.load_checkpoint()
        if saved_config != job.model_config:
            from bash_ai.errors import CheckpointError

            raise CheckpointError(f"{run.latest}: the checkpoint's model config differs from this run's")
        fw.load(weights)
        fw.restore(opt_tensors, state)
        job.train_data.load_state_dict(state["data"])
        start_step, tokens_seen = state["step"], state["tokens_seen"]
    elif job.init_weights is not None:
        fw.load(job.init_weights)
    notes = fw.ready()

    reporter = Reporter(cfg.num_steps, start_step, enabled=fw.main, title=fw.title)
    for note in notes:
        reporter.message(note)
    batch_tokens = getattr(job.train_data, "tokens_per_batch", None)  # variable-width batches (contrast)
    tokens_per_step = cfg.grad_accum * fw.world * (batch_tokens or cfg.batch_size * job.model_config.context_length)
    steps_log = StepLogger(run, reporter, tokens_seen, enabled=fw.main)
    end_step = cfg.num_steps if job.stop_after is None else min(cfg.num_steps, start_step + job.stop_after)
    loss_value = float("nan")
    for step in range(start_step, end_step):
        lr = cfg.lr_at(step)
        loss = fw.step(lr)
        tokens_seen += tokens_per_step
        done = step + 1
        if done % cfg.log_interval == 0 or done == end_step:
            loss_value = loss()
            steps_log.log(done, loss_value, lr, tokens_seen)
        if job.val_data is not None and (done % cfg.eval_interval == 0 or done == cfg.num_steps):
            val_loss = fw.validate(job.val_data.fixed_batches(cfg.eval_batches))
            if fw.main:
                run.log({"step": done, "val_loss": val_loss})
                reporter.message(f"step {done}: val loss {val_loss:.4f}")
        if done % cfg.ckpt_interval == 0 or done == end_step:
            if fw.main:
                weights, opt_tensors, fields = fw.state()
                state = {"step": done, "tokens_seen": tokens_seen, "data": job.train_data.state_dict(), **fields}
                run.save_checkpoint(job.model_config, weights, job.tokenizer, opt_tensors, state)
            fw.barrier()
    reporter.close()
    finished = end_step >= cfg.num_steps
    if finished and fw.main:
        run.finish()
    fw.barrier()
    return {"steps": end_step, "tokens": tokens_seen, "loss": loss_value, "finished": finished}
