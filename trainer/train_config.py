"""Training hyperparameters: one dataclass, saved beside every run as ``train_config.json``."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bash_ai.errors import UsageError, check_range
from trainer.data.document import TARGETS, Targets

Stage = Literal["pretrain", "finetune", "bilingual"]
Backend = Literal["torch", "mlx"]

# The stage picks the data and, unless --backend says otherwise, the framework.
STAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "pretrain": {"backend": "mlx", "datasets": ["tinystories", "local"], "language_ratio": 1.0},
    "finetune": {"backend": "torch", "datasets": ["nl2bash", "tldr", "local"], "language_ratio": 0.0},
    "bilingual": {"backend": "torch", "datasets": ["tinystories", "local", "nl2bash", "tldr"], "language_ratio": 0.7},
}


@dataclass
class TrainConfig:
    stage: Stage = "finetune"
    backend: Backend | None = None
    datasets: list[str] | None = None
    # English share of sampled rows (1.0: English only; 0.0: bash only).
    language_ratio: float | None = None
    # Model: a preset plus explicit overrides.
    model_size: str = "tiny"
    n_layer: int | None = None
    n_head: int | None = None
    n_kv_head: int | None = None
    d_model: int | None = None
    context_length: int | None = None
    pos_encoding: str | None = None
    # Tokenizer: an existing file, or train one of this kind on the mix.
    tokenizer: Literal["bpe", "char"] = "bpe"
    tokenizer_path: str | None = None
    vocab_size: int = 4096
    # Continue from a checkpoint directory (any backend).
    init: str | None = None
    # Retrieval-augmented pairs: k neighbours in the prompt (0: none), augmented copies per pair.
    retrieval_k: int = 0
    retrieval_variants: int = 2
    # What a pair trains the model to write: the command, or its template (arguments abstracted), or
    # the command plus the command after its template as a hint ("hinted").
    targets: Targets = "command"
    # Contrastive structure training (``trainer.data.contrast``): each pair's template ranked against
    # this many other templates (its neighbours' and itself with a flag dropped); 0: off. Needs
    # --targets template and PyTorch; --batch-size then counts groups.
    contrast: int = 0
    # Windows start at a sequence start (default: on with retrieval, or with template targets).
    aligned_windows: bool | None = None
    # A pair's sequences written far apart in the token stream, not one after another
    # (``build_tokenized``'s ``interleave``): a window then never holds two sequences of one pair.
    interleave: bool = False
    # Each training pair indexed with its page's name too (``RetrievalSpec.topics``; with retrieval_k).
    index_topics: bool = False
    # PyTorch matmul precision: bf16 autocast (fp32 master weights, loss and optimizer state),
    # fp32, or auto (bf16 where the CPU multiplies bf16 natively, else fp32).
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    # Optimisation.
    num_steps: int = 1000
    batch_size: int = 16
    grad_accum: int = 1
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    # Regularisation (PyTorch): dropout on embeddings, attention weights and residual branches;
    # label smoothing of the loss. Training settings only: the saved model is unchanged.
    # attention_dropout None: the attention weights take ``dropout`` too.
    dropout: float = 0.0
    attention_dropout: float | None = None
    label_smoothing: float = 0.0
    # Bookkeeping.
    eval_interval: int = 200
    eval_batches: int = 10
    ckpt_interval: int = 200
    log_interval: int = 10
    val_fraction: float = 0.02
    seed: int = 1337
    device: str = "auto"
    compile: bool = False
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.stage not in STAGE_DEFAULTS:
            raise UsageError(f"unknown stage {self.stage!r}; choose one of: {', '.join(STAGE_DEFAULTS)}")
        defaults = STAGE_DEFAULTS[self.stage]
        if self.backend is None:
            self.backend = defaults["backend"]
        if self.datasets is None:
            self.datasets = list(defaults["datasets"])
        if self.language_ratio is None:
            self.language_ratio = defaults["language_ratio"]
        if self.backend not in ("torch", "mlx"):
            raise UsageError(f"unknown backend {self.backend!r}; choose torch or mlx")
        if not 0.0 <= float(self.language_ratio) <= 1.0:
            raise UsageError(f"--language-ratio must be within [0, 1] (got {self.language_ratio})")
        for name in ("num_steps", "batch_size", "grad_accum", "eval_interval", "ckpt_interval", "log_interval"):
            if getattr(self, name) <= 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive (got {getattr(self, name)})")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise UsageError(f"--lr must be a positive number (got {self.lr})")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise UsageError(f"--precision must be auto, bf16 or fp32 (got {self.precision!r})")
        check_range("--retrieval-k", self.retrieval_k, 0, 8)
        if self.index_topics and not self.retrieval_k:
            raise UsageError("--index-topics shapes the retrieval index: it needs --retrieval-k")
        if self.targets not in TARGETS:
            raise UsageError(f"--targets must be {', '.join(TARGETS[:-1])} or {TARGETS[-1]} (got {self.targets!r})")
        for name in ("dropout", "attention_dropout", "label_smoothing"):
            if getattr(self, name) is not None and not 0.0 <= getattr(self, name) < 1.0:
                raise UsageError(f"--{name.replace('_', '-')} must be within [0, 1) (got {getattr(self, name)})")
        if self.backend == "mlx" and (self.dropout or self.attention_dropout or self.label_smoothing):
            raise UsageError(
                "--dropout, --attention-dropout and --label-smoothing are PyTorch settings; use --backend torch"
            )
        check_range("--contrast", self.contrast, 0, 32)
        if self.contrast and (self.targets != "template" or self.backend != "torch"):
            raise UsageError("--contrast ranks templates: it needs --targets template and --backend torch")
        if self.aligned_windows is None:
            self.aligned_windows = self.retrieval_k > 0 or self.targets != "command"
        if self.tokenizer not in ("bpe", "char"):
            raise UsageError(f"--tokenizer must be bpe or char (got {self.tokenizer!r})")

    def lr_at(self, step: int) -> float:
        """Linear warmup, then cosine decay to ``min_lr_ratio * lr`` at ``num_steps``."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        span = max(1, self.num_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        min_lr = self.lr * self.min_lr_ratio
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (self.lr - min_lr)

    def model_overrides(self) -> dict[str, Any]:
        names = ("n_layer", "n_head", "n_kv_head", "d_model", "context_length", "pos_encoding")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def save(self, path: Path) -> None:
        from bash_ai.io import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
