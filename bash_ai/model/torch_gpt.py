"""The transformer of ``bash_ai.model`` in PyTorch: training and reference logits.

Parameter names equal the spec, so ``state_dict()`` is the checkpoint (a tied head is stored once,
as ``tok_emb.weight``; position tables are non-persistent buffers).
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bash_ai.config import ModelConfig
from bash_ai.errors import GenerationError
from bash_ai.model.positions import rope_tables, sinusoidal_table


class Norm(nn.Module):
    """LayerNorm or RMSNorm with a weight and no bias."""

    def __init__(self, dim: int, kind: str, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.layernorm = kind == "layernorm"
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layernorm:
            return F.layer_norm(x, self.weight.shape, self.weight, None, self.eps)
        return F.rms_norm(x, self.weight.shape, self.weight, self.eps)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, kvd = config.d_model, config.n_kv_head * config.head_dim
        self.n_head, self.n_kv_head, self.head_dim = config.n_head, config.n_kv_head, config.head_dim
        self.q_proj = nn.Linear(c, c, bias=False)
        self.k_proj = nn.Linear(c, kvd, bias=False)
        self.v_proj = nn.Linear(c, kvd, bias=False)
        self.o_proj = nn.Linear(c, c, bias=False)

    def project(
        self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q (B, H, T, D), k and v (B, KV, T, D); ``rope`` is (cos, sin) for these positions, (T, D)."""
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_head, self.head_dim).transpose(1, 2)
        if rope is not None:
            cos, sin = (r.to(q.dtype) for r in rope)  # keep autocast's dtype for SDPA
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        return q, k, v

    def forward(
        self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None, dropout: float = 0.0
    ) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.project(x, rope)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=dropout, is_causal=True, enable_gqa=self.n_kv_head != self.n_head
        )
        return self.o_proj(y.transpose(1, 2).reshape(b, t, c))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, start: int) -> torch.Tensor:
        """Attention of new queries at positions start.. over all cached keys (B, KV, S, D)."""
        b, _, t, _ = q.shape
        s = k.shape[2]
        mask = None
        if t > 1:
            mask = torch.ones(t, s, dtype=torch.bool, device=q.device).tril(diagonal=start)  # (T, S)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=self.n_kv_head != self.n_head)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.proj = nn.Linear(config.d_ff, config.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.norm1 = Norm(config.d_model, config.norm, config.norm_eps)
        self.attn = Attention(config)
        self.norm2 = Norm(config.d_model, config.norm, config.norm_eps)
        self.mlp = MLP(config)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> torch.Tensor:
        """Pre-norm residual block; ``dropout`` (training only) on both branches, ``attention_dropout`` on
        the attention weights (any rate above 0 moves PyTorch's CPU attention to its slower path)."""
        x = x + F.dropout(self.attn(self.norm1(x), rope, attention_dropout), dropout, dropout > 0)
        return x + F.dropout(self.mlp(self.norm2(x)), dropout, dropout > 0)


class GPT(nn.Module):
    """The spec's transformer in PyTorch, an intentional twin of ``bash_ai.model.mlx_gpt.GPT`` (same
    weight names and maths; tests/test_model_parity.py). ``dropout`` and ``label_smoothing`` are
    training settings (the trainer sets them, default 0), not part of ``ModelConfig`` or the checkpoint;
    ``attention_dropout`` None means the attention weights take ``dropout`` too."""

    pe: torch.Tensor  # (ctx, C) sinusoidal table, a non-persistent buffer
    rope_cos: torch.Tensor  # (ctx, D)
    rope_sin: torch.Tensor
    dropout: float = 0.0
    attention_dropout: float | None = None
    label_smoothing: float = 0.0

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        if c.pos_encoding == "learned":
            self.pos_emb = nn.Embedding(c.context_length, c.d_model)
        elif c.pos_encoding == "sinusoidal":
            self.register_buffer(
                "pe", torch.from_numpy(sinusoidal_table(c.context_length, c.d_model)), persistent=False
            )
        else:
            cos, sin = rope_tables(c.context_length, c.head_dim, c.rope_theta)
            self.register_buffer("rope_cos", torch.from_numpy(cos), persistent=False)
            self.register_buffer("rope_sin", torch.from_numpy(sin), persistent=False)
        self.blocks = cast(list[Block], nn.ModuleList([Block(c) for _ in range(c.n_layer)]))
        self.norm_f = Norm(c.d_model, c.norm, c.norm_eps)
        if not c.tie_embeddings:
            self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """nanoGPT init: N(0, 0.02); residual projections scaled by 1/sqrt(2 * n_layer)."""
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if p.dim() < 2:
                nn.init.ones_(p)
            elif name.endswith(("attn.o_proj.weight", "mlp.proj.weight")):
                nn.init.normal_(p, 0.0, residual_std)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def head_weight(self) -> torch.Tensor:
        return self.tok_emb.weight if self.config.tie_embeddings else self.lm_head.weight

    def embed(self, idx: torch.Tensor, start: int = 0) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Input vectors (B, T, C) and the RoPE tables for positions start..start+T."""
        t = idx.shape[1]
        x = self.tok_emb(idx)  # (B, T, C)
        rope = None
        if self.config.pos_encoding == "learned":
            x = x + self.pos_emb.weight[start : start + t]
        elif self.config.pos_encoding == "sinusoidal":
            x = x + self.pe[start : start + t]
        else:
            rope = (self.rope_cos[start : start + t], self.rope_sin[start : start + t])
        return x, rope

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, loss_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) and, given targets, the mean cross-entropy over positions where loss_mask is set."""
        x, rope = self.embed(idx)
        p = self.dropout if self.training else 0.0
        pa = (p if self.attention_dropout is None else self.attention_dropout) if self.training else 0.0
        x = F.dropout(x, p, p > 0)
        for block in self.blocks:
            x = block(x, rope, p, pa)
        logits = F.linear(self.norm_f(x), self.head_weight())  # (B, T, V)
        if targets is None:
            return logits, None
        smoothing = self.label_smoothing if self.training else 0.0
        losses = F.cross_entropy(
            logits.flatten(0, 1), targets.flatten(), reduction="none", label_smoothing=smoothing
        )  # (B*T,)
        if loss_mask is None:
            return logits, losses.mean()
        m = loss_mask.flatten().to(losses.dtype)
        return logits, (losses * m).sum() / m.sum().clamp(min=1.0)


class TorchCache:
    """Keys and values per layer, (B, KV, S, D), grown by concatenation (simple, not fast)."""

    def __init__(self, n_layer: int) -> None:
        self.k: list[torch.Tensor | None] = [None] * n_layer
        self.v: list[torch.Tensor | None] = [None] * n_layer
        self.length = 0

    def repeat(self, times: int) -> TorchCache:
        """Row b becomes rows b*times .. b*times+times-1 (as ``KVCache.repeat``)."""
        n = self.k[0].shape[0] if self.k[0] is not None else 1
        return self.select(np.repeat(np.arange(n), times))

    def select(self, rows: np.ndarray | list[int]) -> TorchCache:
        index = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        out = TorchCache(len(self.k))
        out.k = [None if k is None else k[index] for k in self.k]
        out.v = [None if v is None else v[index] for v in self.v]
        out.length = self.length
        return out


class TorchLogitsModel:
    """``LogitsModel`` over a torch ``GPT`` (reference and benchmark peer for the numpy runtime)."""

    def __init__(self, model: GPT) -> None:
        self.model = model.eval()
        self.config = model.config

    def new_cache(self, batch: int) -> TorchCache:
        return TorchCache(self.config.n_layer)

    @torch.inference_mode()
    def forward(self, ids: np.ndarray, cache: Any, last_only: bool = False) -> np.ndarray:
        m, c = self.model, self.config
        idx = torch.as_tensor(np.asarray(ids), dtype=torch.long)
        start = cache.length
        if start + idx.shape[1] > c.context_length:
            raise GenerationError(f"the sequence exceeds the model's context of {c.context_length}")
        x, rope = m.embed(idx, start)
        for i, block in enumerate(m.blocks):
            q, k, v = block.attn.project(block.norm1(x), rope)
            if cache.k[i] is not None:
                k = torch.cat([cache.k[i], k], dim=2)
                v = torch.cat([cache.v[i], v], dim=2)
            cache.k[i], cache.v[i] = k, v
            x = x + block.attn.attend(q, k, v, start)
            x = x + block.mlp(block.norm2(x))
        cache.length = start + idx.shape[1]
        if last_only:
            x = x[:, -1:]
        return F.linear(m.norm_f(x), m.head_weight()).float().numpy()
