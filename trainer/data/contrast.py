"""Contrastive groups for a structure model (``bash-ai train --targets template --contrast N``).

A structure model trained on templates alone learns how likely a template is after a request, but
never sees the candidates it will have to rank. Here each training pair becomes a group: its own
template (row 0) and the templates of up to ``N`` of its nearest training pairs' commands (BM25 over
the requests, the pair itself and its own command excluded, as retrieval for training does), plus
the pair's template with one flag dropped, which the pools hold often and the metric penalises.
The loss (``trainer.loop_torch.contrast_loss``) asks the group's total template log-probabilities
(what ``bash_ai.engine.structure.Structure.logprobs`` scores at run time) to rank them as the
NLC2CMD metric does: soft targets ``softmax(score / TAU)`` over the group, the pair's own template
scoring 1. Rows are written exactly as the engine scores them: the plain "ask" prompt, then the
template's ids and end-of-text, the template tokens alone carrying the score.

Batch ``k`` is a fixed slice of the epoch's permutation (``default_rng([seed, epoch])``), so the
position is just ``k`` and a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bash_ai import prompt
from bash_ai.errors import DataError, UsageError
from trainer.data.document import Document
from trainer.data.mixing import is_val
from trainer.data.tokenized import SegmentEncoder, TokenizerLike

TAU = 0.1  # as the reranker's targets (trainer.rerank.TAU): NLC2CMD scores lie in [-1, 1]
SEARCH_FACTOR = 4  # neighbours searched per negative wanted (many share a template)
MAX_ROW_TOKENS = 128  # a longer prompt + template is left out of training

ContrastBatch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x, y, mask, target (rows,)


@dataclass(frozen=True)
class Group:
    """One request's rows (its prompt's ids, then a template's), where the templates start (every
    row shares the prompt), and each row's target weight."""

    rows: tuple[tuple[int, ...], ...]
    start: int
    target: tuple[float, ...]


def drop_one_flag(template: str, seed: str) -> str | None:
    """``template`` without one of its flags (picked by ``seed``), or None when it has none."""
    words = template.split()
    flags = [i for i, w in enumerate(words) if w.startswith("-") and len(w) > 1 and i > 0]
    if not flags:
        return None
    pick = flags[int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:4], "big") % len(flags)]
    return " ".join(words[:pick] + words[pick + 1 :])


def candidate_templates(doc: Document, neighbours: Iterable[str], negatives: int) -> list[tuple[str, float]]:
    """``(template, NLC2CMD score against the pair's command)``, the pair's own first (score 1),
    then up to ``negatives`` distinct other templates: one flag dropped, then the neighbours' in
    order; empty when the pair has no template."""
    from bash_ai.nlc2cmd import nlc2cmd_score
    from bash_ai.templates import command_template

    own = command_template(doc.command).strip()
    if not own:
        return []
    out, seen = [(own, 1.0)], {own}
    dropped = drop_one_flag(own, doc.id)
    if dropped is not None and negatives > 0:
        out.append((dropped, nlc2cmd_score(dropped, own)))
        seen.add(dropped)
    for command in neighbours:
        if len(out) > negatives:
            break
        template = command_template(command).strip()
        if template and template not in seen:
            seen.add(template)
            out.append((template, nlc2cmd_score(command, doc.command)))
    return out


def soft_targets(scores: Sequence[float]) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) / TAU
    e = np.exp(z - z.max())
    return e / e.sum()


def build_groups(
    docs: Iterable[tuple[str, Document]],
    tokenizer: TokenizerLike,
    negatives: int,
    val_fraction: float,
    context_length: int = MAX_ROW_TOKENS,
) -> tuple[list[Group], list[Group]]:
    """(train, val) groups of every trainable pair with at least one negative; a pair is held back
    for validation as ``build_tokenized`` holds it back (``is_val``). A pair whose rows would not
    fit ``context_length`` (or ``MAX_ROW_TOKENS``) is left out."""
    from bash_ai.retrieval import RetrievalIndex

    if negatives < 1:
        raise UsageError(f"--contrast must be at least 1 (got {negatives})")
    pairs = [
        doc
        for _, doc in docs
        if doc.kind == "pair" and doc.split == "train" and doc.request.strip() and doc.command.strip()
    ]
    if not pairs:
        raise DataError("--contrast needs request/command pairs; the datasets have none")
    index = RetrievalIndex.build([(d.request, d.command, "") for d in pairs])
    encoder = SegmentEncoder(tokenizer)
    train: list[Group] = []
    val: list[Group] = []
    for row, doc in enumerate(pairs):
        hits = index.search(doc.request, SEARCH_FACTOR * negatives, exclude_row=row, exclude_command=doc.command)
        candidates = candidate_templates(doc, (h.command for h in hits), negatives)
        if len(candidates) < 2:
            continue
        head = encoder.segment(prompt.task_prompt("ask", doc.request))
        rows = [tuple(head + encoder.segment(t + prompt.EOT)) for t, _ in candidates]
        if max(len(r) for r in rows) > min(MAX_ROW_TOKENS, context_length + 1):  # x is a row less its last id
            continue
        target = soft_targets([s for _, s in candidates])
        group = Group(tuple(rows), len(head), tuple(float(t) for t in target))
        (val if is_val(doc.id, val_fraction) else train).append(group)
    if not train:
        raise DataError("--contrast found no pair with a neighbour of another template")
    return train, val


class ContrastBatches:
    """Implements ``trainer.batches.BatchSource`` with 4-array batches: ``x``, ``y``, ``mask``
    (B * G, T) and ``target`` (B * G,), ``G = negatives + 1`` rows per group, row 0 the pair's own;
    rows a group lacks are empty (mask all False, target 0)."""

    def __init__(self, groups: Sequence[Group], groups_per_batch: int, group_size: int, seed: int, pad_id: int):
        if not groups:
            raise DataError("no contrastive groups to draw from")
        self.groups = list(groups)
        self.groups_per_batch = int(groups_per_batch)
        self.group_size = int(group_size)
        self.seed = int(seed)
        self.pad_id = int(pad_id)
        self.step = 0
        tokens = sum(len(r) for g in self.groups for r in g.rows)
        self.tokens_per_batch = int(round(tokens / len(self.groups) * self.groups_per_batch))

    def _indices(self, step: int) -> list[int]:
        n = len(self.groups)
        per_epoch = max(1, n // self.groups_per_batch)
        epoch, k = divmod(step, per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(n)
        return [int(i) for i in order[k * self.groups_per_batch : (k + 1) * self.groups_per_batch]]

    def assemble(self, groups: Sequence[Group]) -> ContrastBatch:
        g = self.group_size
        width = max(len(r) for group in groups for r in group.rows) - 1
        rows = len(groups) * g
        x = np.full((rows, width), self.pad_id, dtype=np.int64)
        y = np.full((rows, width), self.pad_id, dtype=np.int64)
        mask = np.zeros((rows, width), dtype=bool)
        target = np.zeros(rows, dtype=np.float32)
        for gi, group in enumerate(groups):
            for ri, (ids, weight) in enumerate(zip(group.rows[:g], group.target[:g], strict=True)):
                r = gi * g + ri
                n = len(ids) - 1
                x[r, :n], y[r, :n] = ids[:-1], ids[1:]
                mask[r, group.start - 1 : n] = True  # y positions that predict the template's tokens
                target[r] = weight
        return x, y, mask, target

    def next_batch(self) -> ContrastBatch:
        batch = self.assemble([self.groups[i] for i in self._indices(self.step)])
        self.step += 1
        return batch

    def fixed_batches(self, n: int) -> list[ContrastBatch]:
        b = self.groups_per_batch
        chunks = [self.groups[i : i + b] for i in range(0, min(len(self.groups), n * b), b)]
        return [self.assemble(chunk) for chunk in chunks]

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "seed": self.seed, "groups": len(self.groups), "batch": self.groups_per_batch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue at a saved position; the groups and batch size must match the saving run's."""
        for name, mine in (("seed", self.seed), ("groups", len(self.groups)), ("batch", self.groups_per_batch)):
            if state.get(name) != mine:
                raise DataError(
                    f"cannot resume the data position: it was saved with {name}={state.get(name)!r}, this run has {mine!r}"
                )
        step = state.get("step")
        if not isinstance(step, int) or step < 0:
            raise DataError(f"bad saved data position {step!r}")
        self.step = step
