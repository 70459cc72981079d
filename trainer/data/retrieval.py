"""Retrieval for training: the index over the trainable pairs, and each pair's neighbours.

The index holds ``split == "train"`` pairs only (never NL2Bash dev/test or tldr-holdout). A
training pair's neighbours exclude the pair itself and every pair with the same command, so the
model learns to adapt worked examples rather than to copy one; the retrieved commands still join
the candidate pool at inference, which covers the cases where copying is right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from bash_ai.errors import check_range
from bash_ai.retrieval import RetrievalIndex
from bash_ai.retrieval.bm25 import ANALYZER
from trainer.data.document import Document
from trainer.data.mixing import iter_training_documents

FORMAT = 1


@dataclass(frozen=True)
class RetrievalSpec:
    """``k`` neighbours per prompt; ``variants`` augmented sequences per pair.

    Variant 0 holds the ``k`` nearest; each further variant a random ``k`` of the ``2k`` nearest
    (seeded by the document id), still best first: the same pair with other examples. ``topics``:
    index each pair with the name of the page it comes from (``RetrievalIndex.build``; a tldr
    example with its page's program).
    """

    k: int = 3
    variants: int = 2
    topics: bool = False

    def __post_init__(self) -> None:
        check_range("--retrieval-k", self.k, 1, 8)
        check_range("--retrieval-variants", self.variants, 1, 8)

    def facts(self) -> dict[str, int | str]:
        """What the tokenized cache key hashes: a new analyzer or spec re-tokenizes (``topics`` only
        when set, so the caches written before it keep their keys)."""
        facts: dict[str, int | str] = {"format": FORMAT, "analyzer": ANALYZER, **asdict(self)}
        if not self.topics:
            del facts["topics"]
        return facts


def build_index(docs: Iterable[tuple[str, Document]], topics: bool = False) -> tuple[RetrievalIndex, dict[str, int]]:
    """The index over the trainable pairs of ``(dataset, document)`` items (``split == "train"``
    only), and each pair's row by document id; ``topics``: each pair indexed with its page's name
    (``meta["page"]``, where its source has pages)."""
    pairs: list[tuple[str, str, str]] = []
    names: list[str] = []
    row_of: dict[str, int] = {}
    for dataset, doc in docs:
        if doc.kind == "pair" and doc.split == "train" and doc.request.strip() and doc.command.strip():
            row_of[doc.id] = len(pairs)
            pairs.append((doc.request, doc.command, dataset))
            names.append(doc.meta.get("page", ""))
    return RetrievalIndex.build(pairs, names if topics else None), row_of


class TrainingRetrieval:
    """The index over a dataset mix's trainable pairs, and neighbours for each of them."""

    def __init__(self, spec: RetrievalSpec, docs: Iterable[tuple[str, Document]]) -> None:
        self.spec = spec
        self.index, self.row_of = build_index(docs, topics=spec.topics)

    @classmethod
    def for_datasets(cls, spec: RetrievalSpec, names: Iterable[str]) -> TrainingRetrieval:
        return cls(spec, iter_training_documents(names))

    def neighbor_sets(self, doc: Document) -> list[list[tuple[str, str]]]:
        """The augmented prompts' neighbours for a pair (empty for anything else)."""
        if doc.kind != "pair" or doc.id not in self.row_of:
            return []
        k = self.spec.k
        hits = self.index.search(doc.request, 2 * k, exclude_row=self.row_of[doc.id], exclude_command=doc.command)
        if not hits:
            return []
        found = [(h.request, h.command) for h in hits]
        sets = [found[:k]]
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(doc.id.encode("utf-8")).digest()[:8], "big"))
        for _ in range(1, self.spec.variants):
            pick = sorted(rng.choice(len(found), size=min(k, len(found)), replace=False))
            sets.append([found[i] for i in pick])
        return sets
