"""bash-ai's tokenizers, written from scratch: byte-level BPE and character-level.

Both save to one versioned JSON file (``TOKENIZER_FILE`` in a model directory) and load through
``load_tokenizer``, which dispatches on the file's ``type``. HF ``tokenizers`` is never needed at
runtime; ``BPETokenizer.to_hf_json`` exports for use with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from bash_ai.errors import UsageError
from bash_ai.model_files import TOKENIZER_FILE
from bash_ai.prompt import SPECIAL_TOKENS
from bash_ai.tokenizer import fileformat
from bash_ai.tokenizer.base import AllowedSpecial
from bash_ai.tokenizer.bpe import BPETokenizer
from bash_ai.tokenizer.char import UNK, CharTokenizer

__all__ = [
    "TOKENIZER_FILE",
    "UNK",
    "AllowedSpecial",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "load_tokenizer",
    "train_tokenizer",
]


@runtime_checkable
class Tokenizer(Protocol):
    """What the engine, the trainer and the checkpoint code rely on."""

    special_tokens: dict[str, int]

    @property
    def vocab_size(self) -> int: ...

    @property
    def eot_id(self) -> int: ...

    def id_of(self, special: str) -> int: ...

    def encode(self, text: str, allowed_special: AllowedSpecial = "none") -> list[int]: ...

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode(self, ids: Iterable[int]) -> str: ...

    def decode_bytes(self, ids: Iterable[int]) -> bytes: ...

    def token_bytes(self, token_id: int) -> bytes: ...

    def save(self, path: Path) -> None: ...


def load_tokenizer(path: Path) -> Tokenizer:
    """Load a tokenizer file, or ``TOKENIZER_FILE`` inside a directory."""
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_FILE
    data = fileformat.read(path)
    if data["type"] == "bpe":
        return BPETokenizer.from_dict(data, path)
    return CharTokenizer.from_dict(data, path)


def train_tokenizer(
    texts: str | Iterable[str],
    vocab_size: int = 4096,
    kind: str = "bpe",
    special_tokens: Iterable[str] = SPECIAL_TOKENS,
) -> Tokenizer:
    """Train either kind; for ``"char"``, ``vocab_size`` caps the vocabulary (``max_vocab``)."""
    if isinstance(texts, str):
        texts = [texts]
    if kind == "bpe":
        return BPETokenizer.train(texts, vocab_size, special_tokens)
    if kind == "char":
        return CharTokenizer.train(texts, max_vocab=vocab_size, special_tokens=special_tokens)
    raise UsageError(f"unknown tokenizer kind {kind!r}; choose bpe or char")
