"""Which documents train, which validate, and what the tokenizer learns from.

Only ``split == "train"`` documents ever train (tldr-holdout and NL2Bash dev/test never do). Of
those, a fixed fraction is validation, chosen by a hash of the document id: stable across runs,
machines and dataset order, and whole documents only (no window straddles train and val).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from bash_ai.errors import UsageError
from trainer.data.document import TRAIN, Document
from trainer.data.store import iter_documents

LANGUAGES: tuple[str, ...] = ("en", "bash")


def is_val(doc_id: str, val_fraction: float) -> bool:
    """Whether a training document is held back for validation (sha256 of the id, as a fraction)."""
    if val_fraction <= 0:
        return False
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < val_fraction


def check_val_fraction(val_fraction: float) -> float:
    if not 0.0 <= val_fraction < 1.0:
        raise UsageError(f"val_fraction must be in [0, 1), not {val_fraction}")
    return float(val_fraction)


def iter_training_documents(dataset_names: Iterable[str]) -> Iterator[tuple[str, Document]]:
    """``(dataset, document)`` for every trainable document, datasets in the order given."""
    for name in _unique(dataset_names):
        for doc in iter_documents(name):
            if doc.split == TRAIN:
                yield name, doc


def _unique(names: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(names))
    if not out:
        raise UsageError("no datasets given; name at least one (e.g. nl2bash, tldr, tinystories, local)")
    return out


def tokenizer_text(doc: Document) -> str:
    """The raw text a document contributes to tokenizer training (no special tokens)."""
    if doc.kind == "pair":
        return f"{doc.request}\n{doc.command}\n"
    return doc.text


def iter_tokenizer_texts(dataset_names: Iterable[str], limit_bytes: int) -> Iterator[str]:
    """Training texts for the tokenizer, datasets interleaved round-robin, up to ``limit_bytes`` UTF-8.

    Round-robin keeps a 2 GB TinyStories from crowding out bash: every dataset contributes until
    it runs out or the budget is spent.
    """
    if limit_bytes <= 0:
        raise UsageError("limit_bytes must be positive")
    streams = [_train_texts(name) for name in _unique(dataset_names)]
    used = 0
    while streams and used < limit_bytes:
        for stream in list(streams):
            text = next(stream, None)
            if text is None:
                streams.remove(stream)
                continue
            used += len(text.encode("utf-8"))
            yield text
            if used >= limit_bytes:
                return


def _train_texts(name: str) -> Iterator[str]:
    for doc in iter_documents(name):
        if doc.split == TRAIN:
            text = tokenizer_text(doc)
            if text.strip():
                yield text
