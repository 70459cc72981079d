"""The transformer of ``bash_ai.model`` in MLX, with the same parameter names as the PyTorch model.

``tree_flatten(model.parameters())`` gives exactly the spec's names; the sinusoidal table is kept in
an underscore attribute, which MLX does not treat as a parameter.
"""

from __future__ import annotations

import math
from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn

from bash_ai.config import ModelConfig
from bash_ai.model.positions import sinusoidal_table

GELU_K = math.sqrt(2.0 / math.pi)


def gelu_tanh(x: mx.array) -> mx.array:
    """The tanh GELU (mlx's ``gelu_approx`` is a different, sigmoid-based curve)."""
    return 0.5 * x * (1.0 + mx.tanh(GELU_K * (x + 0.044715 * x * x * x)))


def make_norm(config: ModelConfig) -> nn.Module:
    if config.norm == "layernorm":
        return nn.LayerNorm(config.d_model, eps=config.norm_eps, affine=True, bias=False)
    return nn.RMSNorm(config.d_model, eps=config.norm_eps)


def flat_parameters(model: nn.Module) -> dict[str, mx.array]:
    """``{"blocks.0.attn.q_proj.weight": array, ...}``: the checkpoint names."""
    from mlx.utils import tree_flatten

    return dict(cast(list[tuple[str, Any]], tree_flatten(model.parameters())))


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, kvd = config.d_model, config.n_kv_head * config.head_dim
        self.n_head, self.n_kv_head, self.head_dim = config.n_head, config.n_kv_head, config.head_dim
        self.rope = config.pos_encoding == "rope"
        self.rope_theta = config.rope_theta
        self.q_proj = nn.Linear(c, c, bias=False)
        self.k_proj = nn.Linear(c, kvd, bias=False)
        self.v_proj = nn.Linear(c, kvd, bias=False)
        self.o_proj = nn.Linear(c, c, bias=False)

    def __call__(self, x: mx.array) -> mx.array:
        b, t, c = x.shape  # (B, T, C)
        q = self.q_proj(x).reshape(b, t, self.n_head, self.head_dim).transpose(0, 2, 1, 3)  # (B, H, T, D)
        k = self.k_proj(x).reshape(b, t, self.n_kv_head, self.head_dim).transpose(0, 2, 1, 3)  # (B, KV, T, D)
        v = self.v_proj(x).reshape(b, t, self.n_kv_head, self.head_dim).transpose(0, 2, 1, 3)
        if self.rope:
            q = mx.fast.rope(q, self.head_dim, traditional=False, base=self.rope_theta, scale=1.0, offset=0)
            k = mx.fast.rope(k, self.head_dim, traditional=False, base=self.rope_theta, scale=1.0, offset=0)
        # GQA: query head h reads kv head h // (H / KV), as the spec requires.
        y = mx.fast.scaled_dot_product_attention(q, k, v, scale=1.0 / math.sqrt(self.head_dim), mask="causal")
        return self.o_proj(y.transpose(0, 2, 1, 3).reshape(b, t, c))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.proj = nn.Linear(config.d_ff, config.d_model, bias=False)

    def __call__(self, x: mx.array) -> mx.array:
        return self.proj(gelu_tanh(self.fc(x)))


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.norm1 = make_norm(config)
        self.attn = Attention(config)
        self.norm2 = make_norm(config)
        self.mlp = MLP(config)

    def __call__(self, x: mx.array) -> mx.array:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    """The spec's transformer in MLX: an intentional twin of ``bash_ai.model.torch_gpt.GPT`` (same
    modules, same weight names, same maths; tests/test_model_parity.py holds them to 1e-4)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        if c.pos_encoding == "learned":
            self.pos_emb = nn.Embedding(c.context_length, c.d_model)
        elif c.pos_encoding == "sinusoidal":
            self._pe = mx.array(sinusoidal_table(c.context_length, c.d_model))  # not a parameter
        self.blocks = [Block(c) for _ in range(c.n_layer)]
        self.norm_f = make_norm(c)
        if not c.tie_embeddings:
            self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nanoGPT init: N(0, 0.02); residual projections scaled by 1/sqrt(2 * n_layer)."""
        from mlx.utils import tree_unflatten

        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        new = []
        for name, p in flat_parameters(self).items():
            if p.ndim < 2:
                new.append((name, mx.ones(p.shape)))
            else:
                std = residual_std if name.endswith(("attn.o_proj.weight", "mlp.proj.weight")) else 0.02
                new.append((name, std * mx.random.normal(p.shape)))
        self.update(tree_unflatten(new))

    def num_parameters(self) -> int:
        return sum(p.size for p in flat_parameters(self).values())

    def __call__(self, idx: mx.array) -> mx.array:
        """Logits (B, T, V) for token ids (B, T)."""
        t = idx.shape[1]
        x = self.tok_emb(idx)  # (B, T, C)
        if self.config.pos_encoding == "learned":
            x = x + self.pos_emb.weight[:t]
        elif self.config.pos_encoding == "sinusoidal":
            x = x + self._pe[:t]
        for block in self.blocks:
            x = block(x)
        x = self.norm_f(x)
        if self.config.tie_embeddings:
            return self.tok_emb.as_linear(x)
        return self.lm_head(x)
