"""The one source of model hyperparameters, saved beside the weights as ``config.json``.

No torch or mlx import here: the CLI reads configs without loading a framework.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bash_ai.errors import ModelError

PosEncoding = Literal["learned", "sinusoidal", "rope"]
NormKind = Literal["layernorm", "rmsnorm"]

CONFIG_FORMAT_VERSION = 1


# Upper bounds for a config read from disk: a hostile config.json (n_layer 1e8, context 1e9)
# must fail with a clear error, not try to allocate gigabytes. Far above any model we train.
LIMITS = {
    "vocab_size": 1 << 20,
    "context_length": 1 << 15,
    "n_layer": 256,
    "n_head": 256,
    "n_kv_head": 256,
    "d_model": 16384,
    "mlp_ratio": 16,
}


@dataclass(frozen=True)
class ModelConfig:
    """A decoder-only transformer (pre-norm, no biases, tanh-GELU MLP).

    ``n_kv_head < n_head`` gives grouped-query attention (``n_kv_head == 1``: multi-query).
    """

    vocab_size: int = 4096
    context_length: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_kv_head: int = 6
    d_model: int = 384
    mlp_ratio: int = 4
    pos_encoding: PosEncoding = "learned"
    rope_theta: float = 10000.0
    norm: NormKind = "layernorm"
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        for name in ("vocab_size", "context_length", "n_layer", "n_head", "n_kv_head", "d_model", "mlp_ratio"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                problems.append(f"{name} must be a positive integer (got {value!r})")
        if not problems:
            for name, most in LIMITS.items():
                if getattr(self, name) > most:
                    problems.append(f"{name} is {getattr(self, name)}, more than bash-ai allows ({most})")
        if not problems:
            if self.d_model % self.n_head:
                problems.append(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")
            if self.n_head % self.n_kv_head:
                problems.append(f"n_head ({self.n_head}) must be divisible by n_kv_head ({self.n_kv_head})")
            if self.pos_encoding == "rope" and (self.d_model // self.n_head) % 2:
                problems.append("rope needs an even head dimension")
        if self.pos_encoding not in ("learned", "sinusoidal", "rope"):
            problems.append(f"pos_encoding must be learned, sinusoidal or rope (got {self.pos_encoding!r})")
        if self.norm not in ("layernorm", "rmsnorm"):
            problems.append(f"norm must be layernorm or rmsnorm (got {self.norm!r})")
        if problems:
            raise ModelError("invalid model config: " + "; ".join(problems))

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head

    @property
    def d_ff(self) -> int:
        return self.mlp_ratio * self.d_model

    def num_parameters(self) -> int:
        """Parameter count as stored (a tied head counts once)."""
        c, kv = self.d_model, self.n_kv_head * self.head_dim
        per_layer = 2 * c + c * c + 2 * c * kv + c * c + 2 * c * self.d_ff
        total = self.vocab_size * c + self.n_layer * per_layer + c
        if self.pos_encoding == "learned":
            total += self.context_length * c
        if not self.tie_embeddings:
            total += self.vocab_size * c
        return total

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward), PaLM appendix B style."""
        n = self.num_parameters() - (self.context_length * self.d_model if self.pos_encoding == "learned" else 0)
        attn = 12 * self.n_layer * self.d_model * self.context_length
        return 6 * n + attn

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["format_version"] = CONFIG_FORMAT_VERSION
        if not data["extra"]:
            del data["extra"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a dict, dropping unknown keys (newer writers may add fields)."""
        version = data.get("format_version", CONFIG_FORMAT_VERSION)
        if version != CONFIG_FORMAT_VERSION:
            raise ModelError(
                f"unsupported config format_version {version!r} (this bash-ai reads {CONFIG_FORMAT_VERSION})"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def save(self, path: Path) -> None:
        from bash_ai.io import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> ModelConfig:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{path}: config.json not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: not a valid config.json ({exc})") from None
        if not isinstance(data, dict):
            raise ModelError(f"{path}: config.json must hold a JSON object")
        try:
            return cls.from_dict(data)
        except TypeError as exc:
            raise ModelError(f"{path}: {exc}") from None


# Size presets. vocab_size is filled from the tokenizer when a model is built.
PRESETS: dict[str, dict[str, Any]] = {
    # For tests: a few thousand parameters, runs everywhere in milliseconds.
    "tiny": dict(context_length=64, n_layer=2, n_head=4, n_kv_head=2, d_model=32),
    # A fast CPU model for the bundled default (cold start within the CLI latency budget).
    "mini": dict(context_length=256, n_layer=4, n_head=4, n_kv_head=4, d_model=256),
    # Seed design, character model: nanoGPT shakespeare-char shape (~10.9M with ~100 symbols).
    "small": dict(context_length=256, n_layer=6, n_head=6, n_kv_head=6, d_model=384),
    # Seed design, larger model (~23M).
    "medium": dict(context_length=256, n_layer=8, n_head=8, n_kv_head=8, d_model=480),
    # GPT-2-medium-like width at 12 layers (~160M with a 4k vocab); for machines with a GPU.
    "large": dict(context_length=1024, n_layer=12, n_head=16, n_kv_head=16, d_model=1024),
}


def preset(name: str, vocab_size: int, **overrides: Any) -> ModelConfig:
    if name not in PRESETS:
        raise ModelError(f"unknown model size {name!r}; choose one of: {', '.join(PRESETS)}")
    values = {**PRESETS[name], "vocab_size": vocab_size}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ModelConfig(**values)


def describe(config: ModelConfig) -> str:
    n = config.num_parameters()
    scale = f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"
    kind = "MHA" if config.n_kv_head == config.n_head else ("MQA" if config.n_kv_head == 1 else "GQA")
    return (
        f"{scale} params, {config.n_layer}L x {config.d_model}, {config.n_head} heads ({kind}, "
        f"{config.n_kv_head} kv), ctx {config.context_length}, {config.pos_encoding} positions"
    )
