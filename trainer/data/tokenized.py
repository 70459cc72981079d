"""The tokenized cache: a dataset mix as memory-mapped token ids plus a loss mask, per language.

Layout of ``cache_dir()/tokenized/<key>/``: ``meta.json`` and, for each language (``en``: English
text; ``bash``: pairs and scripts) and split (``train``/``val``), ``<lang>.<split>.tokens`` (uint16
when the vocabulary fits, else uint32) and ``<lang>.<split>.mask`` (uint8), and ``<lang>.<split>.starts`` (uint64: where each training
sequence begins, for windows aligned to a sequence). Documents are
concatenated; ``mask[i] == 1`` when token ``i`` is a target (predicted-token convention: the loss
on predicting ``tokens[i]`` from ``tokens[:i]`` counts iff ``mask[i]``).

``key`` hashes the tokenizer file's bytes, every dataset manifest's stored-file hashes and the mix
options (retrieval settings included), so any change re-tokenizes and an unchanged mix is reused without encoding anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from bash_ai import paths, prompt
from bash_ai.errors import DataError, TokenizerError
from trainer.data.document import Document, Targets, to_sequences
from trainer.data.mixing import (
    LANGUAGES,
    check_val_fraction,
    is_val,
    iter_tokenizer_texts,
    iter_training_documents,
)
from trainer.data.retrieval import TrainingRetrieval
from trainer.data.store import require_dataset

__all__ = ["SPLITS", "Stream", "TokenizedData", "build_tokenized", "cache_key", "iter_tokenizer_texts"]

FORMAT = 2
SPLITS: tuple[str, ...] = ("train", "val")
META = "meta.json"
_FLUSH_TOKENS = 1 << 20


class TokenizerLike(Protocol):
    """What the cache needs: ``bash_ai.tokenizer``'s encode/save and the vocabulary size."""

    vocab_size: int

    def encode(self, text: str, allowed_special: Any = ...) -> list[int]: ...

    def save(self, path: Path) -> None: ...


@dataclass(frozen=True)
class Stream:
    """One language's concatenated documents in one split."""

    tokens: np.ndarray  # (N,) uint16/uint32, memory-mapped
    mask: np.ndarray  # (N,) uint8, memory-mapped
    starts: np.ndarray | None = None  # (S,) uint64: offset of each sequence, ascending

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


@dataclass(frozen=True)
class TokenizedData:
    path: Path
    meta: dict[str, Any]
    streams: dict[tuple[str, str], Stream]  # (language, split) -> stream

    def split(self, split: str) -> dict[str, Stream]:
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}; choose train or val")
        return {lang: self.streams[(lang, split)] for lang in LANGUAGES}

    @property
    def key(self) -> str:
        return str(self.meta["key"])


def tokenizer_digest(tokenizer: TokenizerLike, tokenizer_file: Path | None = None) -> str:
    """sha256 of the tokenizer file (saved to a temp dir when only the object is given)."""
    if tokenizer_file is not None:
        return hashlib.sha256(Path(tokenizer_file).read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="bash-ai-tok-") as tmp:
        path = Path(tmp) / "tokenizer.json"
        tokenizer.save(path)
        return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_key(
    dataset_names: Iterable[str],
    tokenizer_sha: str,
    val_fraction: float,
    retrieval: dict[str, int | str] | None = None,
    targets: Targets = "command",
    interleave: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The cache key and the facts it hashes (stored in meta.json for inspection)."""
    datasets = {}
    for name in dict.fromkeys(dataset_names):
        _, _, manifest = require_dataset(name)
        datasets[name] = manifest.fingerprint()
    facts = {
        "format": FORMAT,
        "tokenizer_sha256": tokenizer_sha,
        "datasets": datasets,
        "dataset_order": list(datasets),
        "val_fraction": val_fraction,
        "prompt_specials": list(prompt.SPECIAL_TOKENS),
        "retrieval": retrieval,
    }
    if targets != "command":  # the key of every cache made before there was a choice stays as it was
        facts["targets"] = targets
    if interleave:
        facts["order"] = "interleaved"
    blob = json.dumps(facts, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32], facts


def build_tokenized(
    dataset_names: Iterable[str],
    tokenizer: TokenizerLike,
    *,
    val_fraction: float = 0.02,
    tokenizer_file: Path | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    retrieval: TrainingRetrieval | None = None,
    targets: Targets = "command",
    interleave: bool = False,
) -> TokenizedData:
    """Tokenize the mix, or open the cached arrays when this exact mix was tokenized before.

    With ``retrieval``, every trainable pair also trains with its neighbours in the prompt; with
    ``targets="template"`` pairs train on command templates (``to_sequences``).

    ``interleave``: a document's sequences are written far apart (every document's first
    sequence, then every second one, and so on) instead of one after another. A training window
    runs on past the sequence it starts at, and the next sequences of the same pair (its plain
    forward and reverse, after the augmented one) repeat the answer it just saw: targets the model
    can copy from its own context rather than learn.
    """
    names = list(dict.fromkeys(dataset_names))
    val_fraction = check_val_fraction(val_fraction)
    spec = retrieval.spec.facts() if retrieval is not None else None
    key, facts = cache_key(names, tokenizer_digest(tokenizer, tokenizer_file), val_fraction, spec, targets, interleave)
    root = paths.ensure(paths.cache_dir() / "tokenized")
    final = root / key
    with _lock(root / f".{key}.lock"):
        if not (final / META).is_file():
            from bash_ai.io import atomic_write_text, staged_dir

            with staged_dir(final, prefix=f".{key}.partial-") as staging:
                meta = _tokenize_into(staging, names, tokenizer, val_fraction, progress, retrieval, targets, interleave)
                meta.update(key=key, **facts)
                atomic_write_text(staging / META, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return open_tokenized(final)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One builder per key: concurrent ranks wait, then open what the first one wrote."""
    import fcntl

    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def open_tokenized(directory: Path) -> TokenizedData:
    try:
        meta = json.loads((Path(directory) / META).read_text(encoding="utf-8"))
        dtype = np.dtype(meta["dtype"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"tokenized cache {directory} is corrupt ({err}); delete it to rebuild") from None
    streams = {}
    for lang in LANGUAGES:
        for split in SPLITS:
            tokens = _map(Path(directory) / f"{lang}.{split}.tokens", dtype)
            mask = _map(Path(directory) / f"{lang}.{split}.mask", np.dtype(np.uint8))
            if tokens.shape != mask.shape:
                raise DataError(f"tokenized cache {directory}: {lang}.{split} tokens and mask differ in length")
            starts = _map(Path(directory) / f"{lang}.{split}.starts", np.dtype(np.uint64))
            if starts.size and int(starts[-1]) >= tokens.shape[0]:
                raise DataError(f"tokenized cache {directory}: {lang}.{split} sequence starts run past its tokens")
            streams[(lang, split)] = Stream(tokens, mask, starts)
    return TokenizedData(Path(directory), meta, streams)


def _map(path: Path, dtype: np.dtype) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"tokenized cache file {path} is missing; delete its folder to rebuild")
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


class SegmentEncoder:
    """Encodes segments: structural special tokens by id, everything else as plain text.

    A segment is ``[special] text [special]``; only those edge specials are special. Text that
    happens to contain ``<|bash|>`` is encoded as ordinary characters, so data cannot forge the
    prompt structure.
    """

    def __init__(self, tokenizer: TokenizerLike) -> None:
        self.tokenizer = tokenizer
        self.special: dict[str, int] = {}
        for token in prompt.SPECIAL_TOKENS:
            ids = tokenizer.encode(token, allowed_special="all")
            if len(ids) != 1:
                raise TokenizerError(f"the tokenizer does not encode {token} as one special token")
            self.special[token] = int(ids[0])

    def segment(self, text: str) -> list[int]:
        head: list[int] = []
        tail: list[int] = []
        for token, token_id in self.special.items():
            if text.startswith(token):
                head, text = [token_id], text[len(token) :]
                break
        for token, token_id in self.special.items():
            if text.endswith(token):
                tail, text = [token_id], text[: -len(token)]
                break
        body = [int(i) for i in self.tokenizer.encode(text, allowed_special=set())] if text else []
        return head + body + tail


class _Writer:
    """Appends tokens and mask values to one stream's two files, in large chunks."""

    def __init__(self, directory: Path, stem: str, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.tokens_file: BinaryIO = open(directory / f"{stem}.tokens", "wb")  # noqa: SIM115
        self.mask_file: BinaryIO = open(directory / f"{stem}.mask", "wb")  # noqa: SIM115
        self.starts_file: BinaryIO = open(directory / f"{stem}.starts", "wb")  # noqa: SIM115
        self.tokens: list[int] = []
        self.mask: list[int] = []
        self.starts: list[int] = []
        self.count = 0

    def begin_sequence(self) -> None:
        self.starts.append(self.count + len(self.tokens))

    def add(self, ids: list[int], target: bool) -> None:
        self.tokens.extend(ids)
        self.mask.extend([int(target)] * len(ids))
        if len(self.tokens) >= _FLUSH_TOKENS:
            self.flush()

    def flush(self) -> None:
        if self.tokens:
            np.asarray(self.tokens, dtype=self.dtype).tofile(self.tokens_file)
            np.asarray(self.mask, dtype=np.uint8).tofile(self.mask_file)
            self.count += len(self.tokens)
            self.tokens, self.mask = [], []
        if self.starts:
            np.asarray(self.starts, dtype=np.uint64).tofile(self.starts_file)
            self.starts = []

    def close(self) -> None:
        self.flush()
        for handle in (self.tokens_file, self.mask_file, self.starts_file):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()


def _tokenize_into(
    directory: Path,
    names: list[str],
    tokenizer: TokenizerLike,
    val_fraction: float,
    progress: Callable[[str, int, int | None], None] | None,
    retrieval: TrainingRetrieval | None = None,
    targets: Targets = "command",
    interleave: bool = False,
) -> dict[str, Any]:
    vocab = int(tokenizer.vocab_size)
    dtype = np.dtype(np.uint16 if vocab <= 65535 else np.uint32)
    encoder = SegmentEncoder(tokenizer)
    writers = {(lang, split): _Writer(directory, f"{lang}.{split}", dtype) for lang in LANGUAGES for split in SPLITS}
    docs: dict[str, int] = {f"{lang}.{split}": 0 for lang in LANGUAGES for split in SPLITS}
    held: dict[tuple[str, str], list[list[_Encoded]]] = {key: [] for key in writers}  # interleave: written last
    try:
        for n, (_, doc) in enumerate(iter_training_documents(names)):
            split = "val" if is_val(doc.id, val_fraction) else "train"
            neighbors = retrieval.neighbor_sets(doc) if retrieval is not None else []
            sequences = _encode_document(encoder, doc, vocab, neighbors, targets)
            if sequences:
                docs[f"{doc.language}.{split}"] += 1
                if interleave:
                    held[(doc.language, split)].append(sequences)
                else:
                    _write(writers[(doc.language, split)], sequences)
            if progress is not None and n % 1000 == 0:
                progress("tokenizing", n, None)
        for key, documents in held.items():  # every document's first sequence, then every second one...
            for turn in range(max(map(len, documents), default=0)):
                _write(writers[key], [sequences[turn] for sequences in documents if turn < len(sequences)])
    finally:
        for writer in writers.values():
            writer.close()
    tokens = {f"{lang}.{split}": w.count for (lang, split), w in writers.items()}
    if sum(tokens.values()) == 0:
        raise DataError(f"datasets {', '.join(names)} produced no training tokens")
    return {"dtype": dtype.name, "vocab_size": vocab, "tokens": tokens, "documents": docs}


# One sequence, encoded: its segments' ids and whether each segment is a target.
_Encoded = list[tuple[list[int], bool]]


def _encode_document(
    encoder: SegmentEncoder,
    doc: Document,
    vocab: int,
    neighbors: list[list[tuple[str, str]]],
    targets: Targets = "command",
) -> list[_Encoded]:
    out = []
    for sequence in to_sequences(doc, neighbors, targets):
        encoded = []
        for segment in sequence:
            ids = encoder.segment(segment.text)
            if ids and (max(ids) >= vocab or min(ids) < 0):
                raise TokenizerError(f"the tokenizer produced an id outside its vocabulary of {vocab}")
            encoded.append((ids, segment.target))
        out.append(encoded)
    return out


def _write(writer: _Writer, sequences: list[_Encoded]) -> None:
    for sequence in sequences:
        writer.begin_sequence()
        for ids, target in sequence:
            writer.add(ids, target)
