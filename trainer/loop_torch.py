"""The PyTorch training loop: AdamW, warmup + cosine, clipping, accumulation, DDP, exact resume.

Runs single-process or under ``torchrun --nproc_per_node=N`` (DDP; gloo on CPU, nccl on CUDA).
Every rank draws the same global batch from the same seeded sampler and keeps its own rows, so a
2-process run sees exactly the data of a 1-process run with twice the batch size.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F  # noqa: F401  (kept for readers comparing with nanoGPT)

from bash_ai.checkpoint import load_into_torch, torch_state_to_numpy
from bash_ai.model.torch_gpt import GPT
from trainer.heap import keep_freed_memory
from trainer.loop import TrainJob, run_loop
from trainer.train_config import TrainConfig


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_kind: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(name)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AMX or AVX512-BF16): where bf16 pays off."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> bf16 on CUDA with bf16 support or a CPU with native bf16 matmuls, else fp32.

    Measured on this project's 2-core Xeon (AMX), 12M-parameter model, T=256, B=16: fp32 3,160
    tok/s, bf16 autocast 8,180 tok/s (2.6x); see docs/benchmarks.md for the loss parity run.
    """
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp32"


def autocast(precision: str, device: torch.device) -> Any:
    """Matmuls in bf16, weights, loss and optimizer state in fp32 (no loss scaling needed)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """Decay matrices (embeddings included), not norm weights: nanoGPT's grouping."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=1e-8, foreach=True)


def optimizer_to_numpy(optimizer: torch.optim.Optimizer) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Flatten AdamW state into named arrays plus JSON-able group settings (no pickle)."""
    sd = optimizer.state_dict()
    tensors: dict[str, np.ndarray] = {}
    for index, slot in sd["state"].items():
        for name, value in slot.items():
            tensors[f"{index}.{name}"] = value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups}


def optimizer_from_numpy(
    optimizer: torch.optim.Optimizer, tensors: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = torch.from_numpy(np.array(value))
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


class TorchFramework:
    """The PyTorch side of ``trainer.loop.run_loop``: AdamW, autocast, clipping, DDP."""

    title = "training"

    def __init__(self, job: TrainJob) -> None:
        cfg = job.cfg
        self.cfg = cfg
        self.train_data = job.train_data
        self.heap_kept = keep_freed_memory()  # before the model and its activations are allocated
        self.device = pick_device(cfg.device)
        self.ddp = setup_distributed(self.device.type)
        if self.ddp.world > 1:
            self.device = pick_device(cfg.device, self.ddp.local_rank)
        self.main, self.world = self.ddp.main, self.ddp.world
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed + self.ddp.rank)
        self.model = GPT(job.model_config)
        self.model.dropout, self.model.label_smoothing = cfg.dropout, cfg.label_smoothing
        self.model.attention_dropout = cfg.attention_dropout
        self.optimizer = make_optimizer(self.model, cfg)
        self.precision = "fp32"
        self.train_model: torch.nn.Module = self.model

    def load(self, weights: dict[str, np.ndarray]) -> None:
        load_into_torch(self.model, weights)

    def restore(self, opt_tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        optimizer_from_numpy(self.optimizer, opt_tensors, state["optimizer"])
        torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))

    def ready(self) -> list[str]:
        self.model.to(self.device)
        # Moments follow their parameters (optimizer state loaded on CPU).
        for slot in self.optimizer.state.values():
            for name, value in slot.items():
                if torch.is_tensor(value) and name != "step":
                    slot[name] = value.to(self.device)
        if self.ddp.world > 1:
            self.train_model = torch.nn.parallel.DistributedDataParallel(self.model)
        if self.cfg.compile:
            self.train_model = torch.compile(self.train_model)  # type: ignore[assignment]
        self.precision = resolve_precision(self.cfg.precision, self.device)
        self.model.train()
        return [f"precision: {self.precision}"]

    def step(self, lr: float) -> Callable[[], float]:
        cfg, ddp = self.cfg, self.ddp
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        total = torch.zeros((), device=self.device)
        for micro in range(cfg.grad_accum):
            batch = _rank_rows(self.train_data.next_batch(), ddp, cfg.batch_size)
            tensors = [torch.from_numpy(a).to(self.device) for a in batch]
            sync = micro == cfg.grad_accum - 1 or ddp.world == 1
            ctx = self.train_model.no_sync() if (ddp.world > 1 and not sync) else contextlib.nullcontext()  # type: ignore[operator]
            with ctx, autocast(self.precision, self.device):
                if cfg.contrast:
                    loss = contrast_loss(self.train_model, tensors, group=cfg.contrast + 1, lm_weight=1.0)
                else:
                    _, loss = self.train_model(*tensors)
                (loss / cfg.grad_accum).backward()
            total += loss.detach()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return lambda: _mean_across_ranks(total / cfg.grad_accum, ddp)

    def validate(self, batches: Iterable[tuple[np.ndarray, ...]]) -> float:
        group = self.cfg.contrast + 1 if self.cfg.contrast else None
        return evaluate_torch(self.model, batches, self.device, self.precision, group)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        opt_tensors, opt_meta = optimizer_to_numpy(self.optimizer)
        fields = {"torch_rng": torch.get_rng_state().tolist(), "optimizer": opt_meta, "backend": "torch"}
        return torch_state_to_numpy(self.model), opt_tensors, fields

    def barrier(self) -> None:
        if self.ddp.world > 1:
            dist.barrier()


def train_torch(job: TrainJob) -> dict[str, Any]:
    """Train ``job`` in PyTorch; returns a summary (``job.stop_after`` ends early: tests, --stop-after)."""
    return run_loop(job, TorchFramework(job))


@torch.no_grad()
def evaluate_torch(
    model: torch.nn.Module,
    batches: Iterable[tuple[np.ndarray, ...]],
    device: torch.device,
    precision: str = "fp32",
    group: int | None = None,
) -> float:
    """Mean masked loss over fixed validation windows (the same every call); with ``group``
    (contrastive batches, ``trainer.data.contrast``), the mean ranking loss of their groups."""
    was_training = model.training
    model.eval()
    losses = []
    for batch in batches:
        tensors = [torch.from_numpy(a).to(device) for a in batch]
        with autocast(precision, device):
            if group is not None:
                loss = contrast_loss(model, tensors, group=group, lm_weight=0.0)
            else:
                _, loss = model(*tensors)
        losses.append(float(loss))
    model.train(was_training)
    return float(np.mean(losses)) if losses else float("nan")


def contrast_loss(model: torch.nn.Module, batch: Sequence[torch.Tensor], group: int, lm_weight: float) -> torch.Tensor:
    """The ranking loss of contrastive batches (``trainer.data.contrast``): each row's total
    log-probability of its masked tokens (the template, as ``Structure.logprobs`` scores it),
    a softmax over each group of ``group`` rows against the soft ``target``, plus ``lm_weight``
    times the mean token loss of each group's first row (the pair's own template), which keeps
    the model a calibrated generator. Empty rows (mask all False) take no part. ``batch`` is
    ``(x, y, mask, target)``."""
    x, y, mask, target = batch
    logits, _ = model(x)
    token_logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    maskf = mask.float()
    seq = (token_logp * maskf).sum(dim=1)
    seq = seq.masked_fill(~mask.any(dim=1), float("-inf")).view(-1, group)
    target = target.float().view(-1, group)
    rank_logp = torch.log_softmax(seq, dim=1)
    ranking = -torch.where(target > 0, target * rank_logp, torch.zeros_like(rank_logp)).sum(dim=1).mean()
    if not lm_weight:
        return ranking
    own = torch.arange(0, x.shape[0], group, device=x.device)
    lm = -(token_logp[own] * maskf[own]).sum() / maskf[own].sum().clamp(min=1.0)
    return ranking + lm_weight * lm


def _rank_rows(batch: tuple[np.ndarray, ...], ddp: Dist, rows: int) -> tuple[np.ndarray, ...]:
    if ddp.world == 1:
        return batch
    lo = ddp.rank * rows
    return tuple(a[lo : lo + rows] for a in batch)


def _mean_across_ranks(value: torch.Tensor, ddp: Dist) -> float:
    if ddp.world > 1:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= ddp.world
    return float(value)
