"""The CLI's inference runtime: the model of ``bash_ai.model`` in plain numpy (float32).

No torch or mlx import, so ``bash-ai ask`` starts fast. Weights are prepared once at load so a
decode step is a handful of BLAS calls and few Python-level numpy ops:

- Matrices stay (out, in) as stored (a transposing copy at load costs cold-start time), and
  activations are (rows, C) with rows = B*T. ``_linear`` picks the faster BLAS path by row count.
- q, k, v are one fused matmul; 1/sqrt(D) is folded into the q rows.
- Norm weights are folded into the matmul that follows them (norm1 -> qkv, norm2 -> fc,
  norm_f -> head), so a norm is only the normalisation.
- RoPE acts on the fused q|k slab at once (all heads) with one gather for rotate-half.
- Attention is batched over (B, KV, group*T, D): no Python loop over heads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bash_ai.config import ModelConfig
from bash_ai.errors import GenerationError
from bash_ai.model.positions import rope_tables, sinusoidal_table


class Matrix(Protocol):
    """A weight that multiplies itself (``bash_ai.model.bf16.Bf16Matrix``): ``m(x)`` is x @ W.T."""

    shape: tuple[int, ...]

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


GELU_K = math.sqrt(2.0 / math.pi)


@dataclass
class KVCache:
    """Preallocated keys and values, one (B, KV, context_length, D) pair per layer.

    A cache fanned out from one row (``repeat``, or ``select`` of one row several times) does not
    copy that row's filled part: its first ``shared`` positions are read from ``prefix`` (one row per
    layer, (1, KV, shared, D), read-only, shared by every row and by the caches selected from this
    one), and ``k``/``v`` hold positions ``shared`` and after. A beam of five over a long prompt then
    copies only the beams' own tokens at each step.
    """

    k: list[np.ndarray]
    v: list[np.ndarray]
    length: int = 0
    prefix: tuple[list[np.ndarray], list[np.ndarray]] | None = None
    shared: int = 0

    @property
    def batch(self) -> int:
        return self.k[0].shape[0] if self.k else 0

    def repeat(self, times: int) -> KVCache:
        """A new cache with every row repeated ``times`` times (row b -> rows b*times .. b*times+times-1).

        Used to share one prompt prefill among several sampled candidates.
        """
        return self.select(np.repeat(np.arange(self.batch), times))

    def select(self, rows: np.ndarray | list[int]) -> KVCache:
        """A new cache holding the given rows (in that order); only the filled part is copied, and
        not even that where every row continues the same one (it becomes the shared prefix)."""
        index = np.asarray(rows, dtype=np.intp)
        n = self.length
        prefix, shared = self.prefix, self.shared
        if prefix is None and n and len(index) > 1 and (index == index[0]).all():
            row = slice(int(index[0]), int(index[0]) + 1)
            prefix = ([k[row, :, :n] for k in self.k], [v[row, :, :n] for v in self.v])
            shared = n
        k_out, v_out = [], []
        for k, v in zip(self.k, self.v, strict=True):
            nk = np.empty((len(index),) + k.shape[1:], dtype=k.dtype)
            nv = np.empty_like(nk)
            nk[:, :, shared:n] = k[index, :, shared:n]
            nv[:, :, shared:n] = v[index, :, shared:n]
            k_out.append(nk)
            v_out.append(nv)
        return KVCache(k_out, v_out, n, prefix, shared)


@dataclass
class _Layer:
    """Linear weights, (out, in)."""

    w_qkv: np.ndarray | Matrix  # (C + 2*KVD, C), norm1 weight folded in, q rows scaled by 1/sqrt(D)
    w_o: np.ndarray | Matrix  # (C, C)
    w_fc: np.ndarray | Matrix  # (F, C), norm2 weight folded in
    w_proj: np.ndarray | Matrix  # (C, F), times 0.5 (the GELU's 0.5)


class NumpyGPT:
    """Implements ``bash_ai.model.base.LogitsModel``. ``weights`` in any float dtype (float32 ones
    may be kept by reference)."""

    packs_sequences = True  # forward takes positions= and visible= (bash_ai.engine.beam.sequence_logprobs)

    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        self._setup(config, prepare_weights(config, weights))

    @classmethod
    def from_prepared(cls, config: ModelConfig, arrays: dict[str, np.ndarray]) -> NumpyGPT:
        """A runtime from ``prepared_arrays``' matrices as they are (memory-mapped ones too:
        the runtime never writes its weights)."""
        model = cls.__new__(cls)
        model._setup(config, arrays)
        return model

    def prepared_arrays(self) -> dict[str, np.ndarray] | None:
        """The runtime's float32 matrices, folded as ``prepare_weights`` names them (None once a
        matrix is not an array: ``bash_ai.model.bf16`` swapped it)."""
        arrays: dict[str, np.ndarray | Matrix] = {"tok_emb": self.tok_emb, "w_head": self.w_head}
        if self.config.pos_encoding == "learned" and self.pos_table is not None:
            arrays["pos_table"] = self.pos_table
        for i, layer in enumerate(self.layers):
            for field in LAYER_MATRICES:
                arrays[f"{i}.{field}"] = getattr(layer, field)
        if not all(isinstance(a, np.ndarray) for a in arrays.values()):
            return None
        return arrays  # type: ignore[return-value]

    def _setup(self, config: ModelConfig, arrays: dict[str, np.ndarray]) -> None:
        self.config = c = config
        self.tok_emb = arrays["tok_emb"]  # (V, C)
        self.pos_table: np.ndarray | None = arrays.get("pos_table")  # (ctx, C) added to the embeddings
        if c.pos_encoding == "sinusoidal":
            self.pos_table = sinusoidal_table(c.context_length, c.d_model)
        self.layernorm = c.norm == "layernorm"
        self.eps = np.float32(c.norm_eps)
        d, kvd = c.head_dim, c.n_kv_head * c.head_dim
        self.n_q = c.d_model
        self.n_qk = c.d_model + kvd
        self.layers: list[_Layer] = [
            _Layer(**{field: arrays[f"{i}.{field}"] for field in LAYER_MATRICES}) for i in range(c.n_layer)
        ]
        self.w_head: np.ndarray | Matrix = arrays["w_head"]  # (V, C)

        self.rope_cos: np.ndarray | None = None
        if c.pos_encoding == "rope":
            cos, sin = rope_tables(c.context_length, d, c.rope_theta)  # (ctx, D)
            heads = c.n_head + c.n_kv_head
            # Tiled over the q|k slab of all heads; sin carries rotate-half's sign.
            half = d // 2
            sign = np.concatenate([-np.ones(half, np.float32), np.ones(half, np.float32)])
            self.rope_cos = np.ascontiguousarray(np.tile(cos, heads))  # (ctx, (H+KV)*D)
            self.rope_sin = np.ascontiguousarray(np.tile(sin * sign, heads))
            within = np.concatenate([np.arange(half, d), np.arange(half)])  # rotate-half gather
            self.rope_perm = (np.arange(heads)[:, None] * d + within[None, :]).reshape(-1)

    # LogitsModel

    def new_cache(self, batch: int) -> KVCache:
        c = self.config
        shape = (batch, c.n_kv_head, c.context_length, c.head_dim)
        return KVCache(
            [np.zeros(shape, np.float32) for _ in range(c.n_layer)],
            [np.zeros(shape, np.float32) for _ in range(c.n_layer)],
        )

    def forward(
        self,
        ids: np.ndarray,
        cache: KVCache,
        last_only: bool = False,
        *,
        positions: np.ndarray | None = None,
        visible: np.ndarray | None = None,
    ) -> np.ndarray:
        """Append ``ids`` (B, T) to ``cache``; logits (B, T, V), or (B, 1, V) with ``last_only``.

        Packed sequences (``sequence_logprobs``): ``positions`` (T,) are the new tokens' positions
        (default: the next T) and ``visible`` (T, T) bool says which new tokens each new token sees
        (default: itself and the ones before it); everything already in the cache is seen by all.
        """
        c = self.config
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise GenerationError(f"token ids must have shape (batch, time), got {ids.shape}")
        b, t = ids.shape
        start = cache.length
        end = start + t
        if end > c.context_length:
            raise GenerationError(f"the sequence ({end} tokens) exceeds the model's context of {c.context_length}")
        if b != cache.batch:
            raise GenerationError(f"ids have batch {b} but the cache holds {cache.batch}")
        at: slice | np.ndarray = slice(start, end)
        if positions is not None:
            at = np.asarray(positions, dtype=np.intp)
            if at.shape != (t,) or (t and (int(at.min()) < 0 or int(at.max()) >= c.context_length)):
                raise GenerationError(f"positions must be {t} values within the context of {c.context_length}")

        x = self.tok_emb[ids.reshape(-1)]  # (N, C), N = B*T rows
        if self.pos_table is not None:
            x.reshape(b, t, -1)[:] += self.pos_table[at]
        mask = None
        if visible is not None:  # keys before ``start`` are all visible; the new ones as given
            if visible.shape != (t, t):
                raise GenerationError(f"visible must have shape ({t}, {t}), got {visible.shape}")
            mask = np.zeros((t, end), np.float32)  # (T, S)
            mask[:, start:] = np.where(visible, np.float32(0), np.float32(-np.inf))
        elif t > 1:  # causal mask over the new rows; keys before ``start`` are all visible
            mask = np.triu(np.full((t, end), -np.inf, np.float32), k=start + 1)  # (T, S)

        kv, d = c.n_kv_head, c.head_dim
        g = c.n_head // kv
        p = cache.shared  # positions read from the shared prefix (0: none)
        none: list[Any] = [None] * c.n_layer
        prefix_k, prefix_v = cache.prefix if cache.prefix is not None else (none, none)
        for layer, k_cache, v_cache, pk, pv in zip(self.layers, cache.k, cache.v, prefix_k, prefix_v, strict=True):
            qkv = _linear(self._norm(x), layer.w_qkv)  # (N, C + 2*KVD)
            qk = qkv[:, : self.n_qk].reshape(b, t, self.n_qk)  # (B, T, C + KVD)
            if self.rope_cos is not None:
                qk = qk * self.rope_cos[at] + qk[..., self.rope_perm] * self.rope_sin[at]
            q = qk[..., : self.n_q].reshape(b, t, kv, g, d).transpose(0, 2, 3, 1, 4)  # (B, KV, G, T, D)
            k_cache[:, :, start:end] = qk[..., self.n_q :].reshape(b, t, kv, d).transpose(0, 2, 1, 3)
            v_cache[:, :, start:end] = qkv[:, self.n_qk :].reshape(b, t, kv, d).transpose(0, 2, 1, 3)
            keys = k_cache[:, :, p:end]  # (B, KV, S - p, D)
            vals = v_cache[:, :, p:end]
            q = q.reshape(b, kv, g * t, d)
            att = q @ keys.transpose(0, 1, 3, 2)  # (B, KV, G*T, S - p)
            if p:  # the shared prefix's scores (its one row broadcast over B) go first
                att = np.concatenate([q @ pk.transpose(0, 1, 3, 2), att], axis=-1)  # (B, KV, G*T, S)
            if mask is not None:
                att = att.reshape(b, kv, g, t, end)
                att += mask
                att = att.reshape(b, kv, g * t, end)
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            y = att[..., p:] @ vals  # (B, KV, G*T, D)
            if p:
                y += att[..., :p] @ pv
            y = y.reshape(b, kv, g, t, d).transpose(0, 3, 1, 2, 4).reshape(b * t, c.d_model)  # (N, C)
            x += _linear(y, layer.w_o)
            h = _linear(self._norm(x), layer.w_fc)  # (N, F)
            x += _linear(_gelu_tanh_2x(h), layer.w_proj)
        cache.length = end

        if last_only:
            x, t = x.reshape(b, t, -1)[:, -1], 1  # (B, C)
        return np.ascontiguousarray(_linear(self._norm(x), self.w_head)).reshape(b, t, -1)  # (B, T, V)

    def step_rows(self, ids: np.ndarray, cache: KVCache, positions: np.ndarray) -> np.ndarray:
        """One new token per row, each at its own position: logits (B, V).

        For continuous batching: rows of different requests share ``cache`` (B rows) but not a
        length. Row ``b`` writes its key/value at ``positions[b]`` and attends to its own keys
        ``0..positions[b]``; ``cache.length`` is left alone (the caller tracks each row's).
        """
        c = self.config
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)  # (B,)
        pos = np.asarray(positions, dtype=np.intp).reshape(-1)  # (B,)
        b = ids.shape[0]
        if b != cache.batch or pos.shape[0] != b:
            raise GenerationError(f"{b} ids and {pos.shape[0]} positions for a cache of {cache.batch} rows")
        if cache.prefix is not None:
            raise GenerationError("step_rows needs a cache without a shared prefix")
        if b == 0:
            return np.zeros((0, c.vocab_size), np.float32)
        if int(pos.max()) >= c.context_length or int(pos.min()) < 0:
            raise GenerationError(f"a position is outside the model's context of {c.context_length}")
        span = int(pos.max()) + 1
        mask = np.where(np.arange(span)[None, :] <= pos[:, None], 0.0, -np.inf).astype(np.float32)  # (B, S)
        x = self.tok_emb[ids]  # (B, C)
        if self.pos_table is not None:
            x = x + self.pos_table[pos]
        kv, d = c.n_kv_head, c.head_dim
        g = c.n_head // kv
        every = np.arange(b)
        for layer, k_cache, v_cache in zip(self.layers, cache.k, cache.v, strict=True):
            qkv = _linear(self._norm(x), layer.w_qkv)  # (B, C + 2*KVD)
            qk = qkv[:, : self.n_qk]  # (B, C + KVD)
            if self.rope_cos is not None:
                qk = qk * self.rope_cos[pos] + qk[:, self.rope_perm] * self.rope_sin[pos]
            q = qk[:, : self.n_q].reshape(b, kv, g, d)  # (B, KV, G, D)
            k_cache[every, :, pos] = qk[:, self.n_q :].reshape(b, kv, d)
            v_cache[every, :, pos] = qkv[:, self.n_qk :].reshape(b, kv, d)
            keys = k_cache[:, :, :span]  # (B, KV, S, D)
            vals = v_cache[:, :, :span]
            att = q @ keys.transpose(0, 1, 3, 2)  # (B, KV, G, S)
            att += mask[:, None, None, :]
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            y = (att @ vals).reshape(b, c.d_model)  # (B, C): heads in (kv, g) order, as forward's
            x = x + _linear(y, layer.w_o)
            h = _linear(self._norm(x), layer.w_fc)  # (B, F)
            x = x + _linear(_gelu_tanh_2x(h), layer.w_proj)
        return np.ascontiguousarray(_linear(self._norm(x), self.w_head))  # (B, V)

    def _norm(self, x: np.ndarray) -> np.ndarray:
        """Normalise over the last axis; the weight lives in the next matmul."""
        if self.layernorm:
            x = x - x.mean(axis=-1, keepdims=True)
        scale = np.square(x).mean(axis=-1, keepdims=True)
        scale += self.eps
        np.sqrt(scale, out=scale)
        return x / scale


LAYER_MATRICES = ("w_qkv", "w_o", "w_fc", "w_proj")  # _Layer's fields, prepared_arrays' names


def prepare_weights(config: ModelConfig, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The runtime's float32 matrices from a checkpoint's tensors (any float dtype; float32 ones
    may be kept by reference), in one pass each that also folds the scales in (a cold start writes
    44 MB of float32 once, not twice): ``tok_emb``, ``pos_table`` (learned positions), ``w_head``
    and each layer's ``{i}.w_qkv`` / ``w_o`` / ``w_fc`` / ``w_proj`` (``_Layer``)."""
    c = config
    f32 = np.float32

    def w(name: str) -> np.ndarray:
        return np.asarray(weights[name], dtype=f32)

    arrays = {"tok_emb": np.ascontiguousarray(weights["tok_emb.weight"], dtype=f32)}
    if c.pos_encoding == "learned":
        arrays["pos_table"] = np.ascontiguousarray(weights["pos_emb.weight"], dtype=f32)
    qk_scale = f32(1.0 / math.sqrt(c.head_dim))
    for i in range(c.n_layer):
        p = f"blocks.{i}."
        qkv = np.concatenate(
            [weights[p + "attn.q_proj.weight"], weights[p + "attn.k_proj.weight"], weights[p + "attn.v_proj.weight"]],
            dtype=f32,
        )
        qkv[: c.d_model] *= qk_scale  # (C + 2*KVD, C)
        qkv *= w(p + "norm1.weight")
        arrays[f"{i}.w_qkv"] = qkv
        arrays[f"{i}.w_o"] = np.ascontiguousarray(weights[p + "attn.o_proj.weight"], dtype=f32)
        arrays[f"{i}.w_fc"] = np.multiply(weights[p + "mlp.fc.weight"], w(p + "norm2.weight"), dtype=f32)
        arrays[f"{i}.w_proj"] = np.multiply(weights[p + "mlp.proj.weight"], f32(0.5), dtype=f32)
    head = weights["tok_emb.weight" if c.tie_embeddings else "lm_head.weight"]  # (V, C)
    arrays["w_head"] = np.multiply(head, w("norm_f.weight"), dtype=f32)
    return arrays


GEMV_ROWS = (3, 10)  # row counts for which one (blocked) gemv per row beats one sgemm: 0.71-0.91x
BLOCK_BYTES = 384 * 1024  # a weight block that stays in a core's L2 (1 MiB here) while each row reads it


def _linear(x: np.ndarray, weight: np.ndarray | Matrix) -> np.ndarray:
    """x (N, in) times weight (out, in) transposed: (N, out), not necessarily C-ordered. A
    ``Matrix`` that is not an array multiplies itself.

    OpenBLAS's sgemm has a large fixed cost for a few rows, so within ``GEMV_ROWS`` rows (a beam
    step's 5) each row runs as one gemv (numpy loops over the stacked axis). The weights of a
    decode step (44 MB for the bundled model) do not fit the caches, so the weight is taken in
    blocks of ``BLOCK_BYTES``: every row reads a block while it is still in L2, instead of each row
    fetching the whole matrix from memory again (a 5-row step 0.76x of one sgemm, 0.85x of the
    unblocked gemvs). Other row counts run as weight @ x.T, measured faster than x @ weight.T
    (benchmarks/bench_decode.py --part rows; 2-CPU x86, OpenBLAS 0.3.31).
    """
    if not isinstance(weight, np.ndarray):
        return weight(x)
    n = x.shape[0]
    if n == 1:
        return x @ weight.T
    if GEMV_ROWS[0] <= n <= GEMV_ROWS[1]:
        out_dim, in_dim = weight.shape
        step = max(8, BLOCK_BYTES // (4 * in_dim) // 8 * 8)  # output rows per block
        out = np.empty((n, 1, out_dim), np.float32)
        rows = x[:, None, :]  # (N, 1, in)
        for s in range(0, out_dim, step):
            np.matmul(rows, weight[s : s + step].T, out=out[:, :, s : s + step])
        return out.reshape(n, out_dim)
    return (weight @ x.T).T


def _gelu_tanh_2x(h: np.ndarray) -> np.ndarray:
    """2 * gelu_tanh(h), in place (the 0.5 is folded into mlp.proj)."""
    inner = np.square(h)
    inner *= GELU_K * 0.044715
    inner += GELU_K
    inner *= h
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= h
    return inner
