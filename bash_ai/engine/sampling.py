"""Sampling parameters and a numpy sampler, vectorised over a batch of candidates.

Reproducible: each candidate has its own ``np.random.Generator(PCG64(...))`` stream spawned from
the seed and draws exactly one uniform per step, so the same seed and prompt give the same tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bash_ai.errors import UsageError

DEFAULT_MAX_TOKENS = 128
MAX_STOP_STRINGS = 16


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens. ``temperature == 0`` is greedy (argmax); ``top_k``/``top_p`` of
    ``None`` (or 0 / 1.0) disable those filters. ``repetition_penalty`` is CTRL's: a logit of a
    token already generated (and, with ``penalize_prompt``, in the prompt) is divided by it when
    positive, multiplied when negative. ``stop`` strings end a candidate and are never emitted.
    """

    temperature: float = 0.7
    top_k: int | None = 40
    top_p: float | None = 0.95
    repetition_penalty: float = 1.0
    penalize_prompt: bool = False
    max_tokens: int = DEFAULT_MAX_TOKENS
    stop: Sequence[str] = ()  # stored as a tuple
    seed: int | None = None

    def __post_init__(self) -> None:
        # Accept any sequence of strings (a list from JSON) but store a tuple: the class is frozen.
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        elif isinstance(self.stop, Sequence):
            object.__setattr__(self, "stop", tuple(self.stop))
        problems = _problems(self)
        if problems:
            raise UsageError("invalid sampling parameters: " + "; ".join(problems))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def replace(self, **changes: Any) -> SamplingParams:
        return replace(self, **changes)

    def with_stop(self, *extra: str) -> SamplingParams:
        """These params plus more stop strings (duplicates dropped)."""
        return replace(self, stop=tuple(dict.fromkeys((*self.stop, *extra))))


def _problems(p: SamplingParams) -> list[str]:
    out = []
    if not _is_number(p.temperature) or not math.isfinite(p.temperature) or p.temperature < 0:
        out.append(f"temperature must be a number >= 0 (got {p.temperature!r})")
    if p.top_k is not None and (not _is_int(p.top_k) or p.top_k < 0):
        out.append(f"top_k must be a whole number >= 0 (got {p.top_k!r})")
    if p.top_p is not None and (not _is_number(p.top_p) or not 0 < p.top_p <= 1):
        out.append(f"top_p must be in (0, 1] (got {p.top_p!r})")
    rp = p.repetition_penalty
    if not _is_number(rp) or not math.isfinite(rp) or rp <= 0:
        out.append(f"repetition_penalty must be a number > 0 (got {rp!r})")
    if not isinstance(p.penalize_prompt, bool):
        out.append(f"penalize_prompt must be true or false (got {p.penalize_prompt!r})")
    if not _is_int(p.max_tokens) or p.max_tokens < 1:
        out.append(f"max_tokens must be a whole number >= 1 (got {p.max_tokens!r})")
    if not isinstance(p.stop, tuple) or not all(isinstance(s, str) and s for s in p.stop):
        out.append("stop must be a list of non-empty strings")
    elif len(p.stop) > MAX_STOP_STRINGS:
        out.append(f"at most {MAX_STOP_STRINGS} stop strings (got {len(p.stop)})")
    if p.seed is not None and (not _is_int(p.seed) or p.seed < 0):
        out.append(f"seed must be a whole number >= 0 (got {p.seed!r})")
    return out


def make_rng(seed: int | None) -> np.random.Generator:
    """A PCG64 generator; ``None`` seeds from the OS."""
    return np.random.Generator(np.random.PCG64(seed))


def candidate_rngs(seed: int | None, n: int) -> list[np.random.Generator]:
    """One independent PCG64 stream per candidate, child ``i`` of ``SeedSequence(seed)``.

    Candidate ``i`` draws the same numbers whatever ``n`` is, so ``-n 1`` and the first of
    ``-n 3`` agree for one seed, and finished candidates can leave the batch without shifting
    anyone else's draws.
    """
    return [np.random.Generator(np.random.PCG64(child)) for child in np.random.SeedSequence(seed).spawn(n)]


def apply_repetition_penalty(logits: np.ndarray, seen: np.ndarray, penalty: float) -> np.ndarray:
    """CTRL penalty on the ``seen`` (B, V) bool mask; returns new logits (B, V)."""
    if penalty == 1.0:
        return logits
    penalised = np.where(logits > 0, logits / penalty, logits * penalty)
    return np.where(seen, penalised, logits).astype(logits.dtype, copy=False)


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)  # (B, V)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


# Nucleus sampling without top-k first tries the most likely NUCLEUS_PROBE tokens: when they hold
# top_p of the mass the nucleus lies inside them (it is a prefix of the sorted order), so the
# full-vocabulary sort is skipped.
NUCLEUS_PROBE = 256


def _penalised(logits: np.ndarray, params: SamplingParams, seen: np.ndarray | None) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)  # (B, V)
    if x.ndim != 2:
        raise ValueError(f"logits must be (batch, vocab), got shape {x.shape}")
    if seen is not None:
        x = apply_repetition_penalty(x, seen, float(params.repetition_penalty))
    return x


def _candidates(x: np.ndarray, params: SamplingParams) -> tuple[np.ndarray, np.ndarray | None]:
    """Sampling probabilities over a subset of tokens: ((B, K) probs, (B, K) ids), ids ``None``
    meaning all V in order. Rows of probs sum to 1."""
    batch, vocab = x.shape
    x = x / params.temperature
    top_p = params.top_p if params.top_p is not None and params.top_p < 1.0 else None
    k = params.top_k or vocab
    ids: np.ndarray | None = None
    if k < vocab:
        ids = np.sort(np.argpartition(-x, k - 1, axis=-1)[:, :k], axis=-1)  # (B, k) the k largest, by id
        probs = _softmax(np.take_along_axis(x, ids, axis=-1))  # (B, k)
    else:
        probs = _softmax(x)  # (B, V)
        if top_p is not None and vocab > NUCLEUS_PROBE:
            probe = np.sort(np.argpartition(-probs, NUCLEUS_PROBE - 1, axis=-1)[:, :NUCLEUS_PROBE], axis=-1)
            sub = np.take_along_axis(probs, probe, axis=-1)  # (B, P) absolute masses
            if bool((sub.sum(axis=-1) >= top_p).all()):
                ids, probs = probe, sub
    if top_p is not None:
        probs = top_p_filter(probs, top_p)
    return probs, ids


def distribution(logits: np.ndarray, params: SamplingParams, seen: np.ndarray | None = None) -> np.ndarray:
    """The (B, V) float64 probabilities ``sample`` draws from, after penalty, temperature,
    top-k and top-p. Greedy gives a one-hot row at the argmax (lowest id on ties)."""
    x = _penalised(logits, params, seen)  # (B, V)
    full = np.zeros_like(x)
    if params.greedy:
        full[np.arange(x.shape[0]), x.argmax(axis=-1)] = 1.0
        return full
    probs, ids = _candidates(x, params)
    if ids is None:
        return probs
    np.put_along_axis(full, ids, probs, axis=-1)
    return full


def top_p_filter(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Nucleus filter: keep the smallest most-likely set whose mass reaches ``top_p``, renormalised."""
    order = np.argsort(-probs, axis=-1, kind="stable")  # (B, V) most likely first
    sorted_p = np.take_along_axis(probs, order, axis=-1)
    mass_before = np.cumsum(sorted_p, axis=-1) - sorted_p  # mass of strictly more likely tokens
    keep_sorted = mass_before < top_p  # the first token always has 0 before it
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def sample(
    logits: np.ndarray,
    params: SamplingParams,
    rng: np.random.Generator,
    seen: np.ndarray | None = None,
    *,
    uniforms: np.ndarray | None = None,
) -> np.ndarray:
    """One token id per row of ``logits`` (B, V) -> (B,) int64, by inverse CDF of a uniform.

    ``uniforms`` (B,) in [0, 1) are the draws to use; by default ``B`` come from ``rng``, even when
    greedy, so switching filters never shifts later draws.
    """
    x = _penalised(logits, params, seen)  # (B, V)
    u = np.asarray(rng.random(x.shape[0]) if uniforms is None else uniforms, dtype=np.float64)  # (B,)
    if params.greedy:
        return x.argmax(axis=-1).astype(np.int64)
    probs, ids = _candidates(x, params)  # (B, K)
    cdf = np.cumsum(probs, axis=-1)  # (B, K)
    target = u[:, None] * cdf[:, -1:]  # (B, 1)
    pick = (cdf <= target).sum(axis=-1)  # first index whose cdf exceeds the target
    # Rounding can push the index past the last token with mass: clamp to it.
    last_nonzero = probs.shape[1] - 1 - (probs[:, ::-1] > 0).argmax(axis=-1)
    pick = np.minimum(pick, last_nonzero)  # (B,)
    if ids is not None:
        pick = ids[np.arange(len(pick)), pick]
    return pick.astype(np.int64)
