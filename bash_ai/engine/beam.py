"""Beam search over any ``LogitsModel`` whose cache can ``select`` rows (the numpy and torch runtimes).

Deterministic: the ``width`` best continuations by total log-probability, each ended by the
end-of-text token (or cut at ``max_tokens`` / the context end). Every step feeds the live beams as
one batch: one (B, 1) forward pass, then the cache rows are reordered to follow their parents.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bash_ai.errors import UsageError, check_range

if TYPE_CHECKING:
    from bash_ai.model.base import LogitsModel

MAX_WIDTH = 16


@dataclass(frozen=True)
class Beam:
    """One finished hypothesis: its tokens (end marker excluded) and total log-probability."""

    tokens: tuple[int, ...]
    logprob: float
    finish_reason: str  # "eos" | "length"

    def score(self, alpha: float) -> float:
        """Length-normalised score (GNMT's penalty ((5 + n) / 6) ** alpha); alpha 0 is the raw sum."""
        n = len(self.tokens) + (1 if self.finish_reason == "eos" else 0)
        return self.logprob / (((5.0 + n) / 6.0) ** alpha)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64, (B, V) -> (B, V)."""
    x = logits.astype(np.float64)
    top = x.max(axis=-1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=-1, keepdims=True))


def beam_search(
    model: LogitsModel,
    prompt: Sequence[int],
    eot_id: int,
    *,
    width: int = 5,
    max_tokens: int = 96,
    banned: np.ndarray | None = None,
    cancel: threading.Event | None = None,
    prefilled: Prefilled | None = None,
) -> list[Beam]:
    """The ``width`` best hypotheses after ``prompt``, best first by total log-probability.

    ``prefilled`` (from :func:`prefill`) skips running the prompt again; it is not modified.

    ``banned`` token ids are never chosen. The search stops when ``width`` hypotheses have ended
    and no live beam can still beat the worst of them (log-probabilities only fall), at
    ``max_tokens`` or at the context end. A set ``cancel`` returns what has finished so far.
    """
    check_range("beam width", width, 1, MAX_WIDTH, integer=True)
    ctx = int(model.config.context_length)
    ids = np.asarray(list(prompt), dtype=np.int64)[None, :]  # (1, T)
    if ids.shape[1] == 0 or ids.shape[1] >= ctx:
        raise UsageError(f"the prompt must hold between 1 and {ctx - 1} tokens (got {ids.shape[1]})")
    cache, logp = prefilled if prefilled is not None else prefill(model, prompt)
    logp = logp.copy()  # (1, V); banned tokens are masked in place below
    beams: list[tuple[int, ...]] = [()]
    scores = np.zeros(1)  # (B,) total log-probability of each live beam
    done: list[Beam] = []
    for step in range(max_tokens):
        if cancel is not None and cancel.is_set():
            break
        if banned is not None and banned.size:
            logp[:, banned] = -np.inf
        total = scores[:, None] + logp  # (B, V)
        flat = total.ravel()
        take = min(2 * width, flat.size)
        best = np.argpartition(-flat, take - 1)[:take]
        best = best[np.argsort(-flat[best], kind="stable")]
        parents, tokens, new_beams, new_scores = [], [], [], []
        for j in best:
            value = float(flat[j])
            if not np.isfinite(value):
                break
            parent, token = divmod(int(j), total.shape[1])
            if token == eot_id:
                done.append(Beam(beams[parent], value, "eos"))
                continue
            parents.append(parent)
            tokens.append(token)
            new_beams.append((*beams[parent], token))
            new_scores.append(value)
            if len(new_beams) == width:
                break
        done.sort(key=lambda b: -b.logprob)
        del done[width:]
        if not new_beams:
            break
        if len(done) == width:
            if new_scores[0] <= done[-1].logprob:
                break  # no live beam can overtake the finished ones
            # A live beam already below the worst finished one can never join them (log-probabilities
            # only fall), and its continuations would only fill the live slots the better ones leave
            # empty: stop feeding it (the result is the same, the step has fewer rows).
            alive = sum(1 for s in new_scores if s >= done[-1].logprob)
            del parents[alive:], tokens[alive:], new_beams[alive:], new_scores[alive:]
        at_end = int(cache.length) + 1 >= ctx
        if step == max_tokens - 1 or at_end:
            done += [Beam(b, s, "length") for b, s in zip(new_beams, new_scores, strict=True)]
            break
        cache = cache.select(np.asarray(parents, dtype=np.intp))
        beams, scores = new_beams, np.asarray(new_scores)
        feed = np.asarray(tokens, dtype=np.int64)[:, None]  # (B, 1)
        logp = log_softmax(_last(model.forward(feed, cache, last_only=True)))  # (B, V)
    done.sort(key=lambda b: -b.logprob)
    return done[:width]


Prefilled = tuple[Any, np.ndarray]  # (a one-row cache holding the prompt, its next-token log-probs (1, V))


def prefill(model: LogitsModel, prompt: Sequence[int]) -> Prefilled:
    """Run ``prompt`` once; beam search and :func:`sequence_logprobs` can share the result (each
    copies the cache's rows before extending them, so it stays as it is)."""
    cache = model.new_cache(1)
    ids = np.asarray(list(prompt), dtype=np.int64)[None, :]  # (1, T)
    return cache, log_softmax(_last(model.forward(ids, cache, last_only=True)))  # (1, V)


def _last(logits: Any) -> np.ndarray:
    out = np.asarray(logits)
    return out[:, -1, :] if out.ndim == 3 else out


def sequence_logprobs(
    model: LogitsModel,
    prompt: Sequence[int],
    continuations: Sequence[Sequence[int]],
    prefilled: Prefilled | None = None,
) -> list[float]:
    """Teacher-forced total log-probability of each continuation after ``prompt``.

    The prompt is run once and its cache fanned out; continuations of similar length share a
    right-padded batch (causal attention keeps each row's real positions blind to its padding), so
    one long command does not make every row pay for its length.
    """
    if not continuations:
        return []
    ctx = int(model.config.context_length)
    if len(prompt) + max(len(c) for c in continuations) > ctx:
        raise UsageError("a continuation does not fit the context after the prompt")
    prefilled_cache, first = prefilled if prefilled is not None else prefill(model, prompt)
    if getattr(model, "packs_sequences", False):
        return _packed_logprobs(model, prefilled_cache, first, continuations)
    totals = [0.0] * len(continuations)
    for bucket in _length_buckets([len(c) for c in continuations]):
        width = max(len(continuations[i]) for i in bucket)
        if width == 0:
            continue
        cache = prefilled_cache.select(np.zeros(len(bucket), dtype=np.intp))  # a copy: prefilled stays as it is
        feed = np.zeros((len(bucket), width), dtype=np.int64)  # (N, W)
        for r, i in enumerate(bucket):
            feed[r, : len(continuations[i])] = continuations[i]
        out = np.asarray(model.forward(feed, cache))  # (N, W, V)
        for r, i in enumerate(bucket):
            cont = continuations[i]
            if not cont:
                continue
            total = float(first[0, cont[0]])
            if len(cont) > 1:
                lp = log_softmax(out[r, : len(cont) - 1])  # (n-1, V) predicts cont[1:]
                total += float(lp[np.arange(len(cont) - 1), cont[1:]].sum())
            totals[i] = total
    return totals


def _packed_logprobs(
    model: LogitsModel, prefilled_cache: Any, first: np.ndarray, continuations: Sequence[Sequence[int]]
) -> list[float]:
    """``sequence_logprobs`` for a runtime whose ``forward`` takes ``positions`` and ``visible``
    (the numpy one): the continuations (each but its last token, whose logits nothing needs) run
    as one token tree in one row after the prompt: a prefix that several share (``find . -type``)
    runs once, and each token sees the prompt and its own earlier tokens, at the position it would
    have alone. No padding, no copy of the prompt per continuation; a tree larger than the room
    left in the context is split over several passes."""
    room = int(model.config.context_length) - int(prefilled_cache.length)
    totals = [float(first[0, c[0]]) if c else 0.0 for c in continuations]
    todo = [i for i, c in enumerate(continuations) if len(c) > 1]
    while todo:
        nodes: dict[tuple[int, ...], int] = {}  # token prefix -> its node (one packed position)
        parents: list[int] = []
        paths: dict[int, list[int]] = {}  # continuation -> the nodes of its fed tokens
        while todo:
            feed = tuple(int(t) for t in continuations[todo[0]][:-1])
            new = [k for k in range(1, len(feed) + 1) if feed[:k] not in nodes]
            if parents and len(parents) + len(new) > room:
                break
            for k in new:
                nodes[feed[:k]] = len(parents)
                parents.append(nodes[feed[: k - 1]] if k > 1 else -1)
            paths[todo.pop(0)] = [nodes[feed[:k]] for k in range(1, len(feed) + 1)]
        tokens = np.empty(len(parents), dtype=np.int64)
        depth = np.empty(len(parents), dtype=np.intp)
        visible = np.zeros((len(parents), len(parents)), dtype=bool)  # (T, T): ancestors and itself
        for prefix, node in nodes.items():  # insertion order: a parent before its children
            tokens[node], depth[node] = prefix[-1], len(prefix) - 1
            if parents[node] >= 0:
                visible[node] = visible[parents[node]]
            visible[node, node] = True
        start = int(prefilled_cache.length)
        cache = prefilled_cache.select(np.zeros(1, dtype=np.intp))  # a copy: prefilled stays as it is
        out = np.asarray(model.forward(tokens[None, :], cache, positions=start + depth, visible=visible))[0]  # type: ignore[call-arg]
        lp = log_softmax(out)  # (T, V): node j's row predicts the token after it
        for i, path in paths.items():
            totals[i] += float(lp[path, continuations[i][1:]].sum())
    return totals


def _length_buckets(lengths: Sequence[int]) -> list[list[int]]:
    """Indices grouped by length, shortest first; a group ends where a length passes twice its first."""
    buckets: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda j: lengths[j]):
        if buckets and lengths[i] <= 2 * max(1, lengths[buckets[-1][0]]):
            buckets[-1].append(i)
        else:
            buckets.append([i])
    return buckets


def continuation_logprobs(model: LogitsModel, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[float]:
    """Total log-probability of each ``continuation`` after its own ``prompt``, in one batch.

    Rows are ``prompt + continuation``, right-padded; causal attention keeps each row's real
    positions blind to its padding. Pairs longer than the context get ``-inf``.
    """
    ctx = int(model.config.context_length)
    rows = [(list(p), list(c)) for p, c in pairs]
    fits = [i for i, (p, c) in enumerate(rows) if p and c and len(p) + len(c) <= ctx]
    out = [-math.inf] * len(rows)
    if not fits:
        return out
    width = max(len(rows[i][0]) + len(rows[i][1]) for i in fits)
    batch = np.zeros((len(fits), width), dtype=np.int64)  # (B, T)
    for r, i in enumerate(fits):
        seq = rows[i][0] + rows[i][1]
        batch[r, : len(seq)] = seq
    logits = np.asarray(model.forward(batch, model.new_cache(len(fits))))  # (B, T, V)
    for r, i in enumerate(fits):
        p, c = rows[i]
        lp = log_softmax(logits[r, len(p) - 1 : len(p) + len(c) - 1])  # (n, V): predicts c
        out[i] = float(lp[np.arange(len(c)), c].sum())
    return out
