"""Character-level tokenizer: one id per character seen in training, then the special tokens, then
``<|unk|>`` for every other character.

Ids: characters ``0..n-1`` (most frequent first, ties by code point), special tokens ``n..`` in
order, ``<|unk|>`` last. The unknown-character policy is explicit: ``"replace"`` maps an unseen
character to the unk id (decoded as U+FFFD), ``"error"`` raises ``TokenizerError`` naming the
character and its position. Text made only of known characters round-trips exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from bash_ai.errors import TokenizerError, UsageError
from bash_ai.prompt import SPECIAL_TOKENS
from bash_ai.tokenizer import fileformat
from bash_ai.tokenizer.base import TokenizerBase
from bash_ai.tokenizer.pretokenize import split_specials

UNK = "<|unk|>"
Unknown = Literal["replace", "error"]
UNKNOWN_POLICIES: tuple[str, ...] = ("replace", "error")


class CharTokenizer(TokenizerBase):
    def __init__(
        self, chars: Sequence[str], special_tokens: Iterable[str] = SPECIAL_TOKENS, unknown: Unknown = "replace"
    ) -> None:
        self.chars = list(chars)
        self._stoi = {c: i for i, c in enumerate(self.chars)}
        self.special_tokens = {text: len(self.chars) + i for i, text in enumerate(dict.fromkeys(special_tokens))}
        self.unk_id = len(self.chars) + len(self.special_tokens)
        self._token_bytes = [c.encode("utf-8", "surrogatepass") for c in self.chars]
        self._token_bytes.extend(text.encode("utf-8") for text in self.special_tokens)
        self._token_bytes.append("\ufffd".encode())
        self.unknown = unknown

    @property
    def unknown(self) -> Unknown:
        return self._unknown

    @unknown.setter
    def unknown(self, policy: Unknown) -> None:
        if policy not in UNKNOWN_POLICIES:
            raise UsageError(f"unknown-character policy must be 'replace' or 'error', not {policy!r}")
        self._unknown = policy

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        max_vocab: int = 128,
        min_frequency: int = 1,
        special_tokens: Iterable[str] = SPECIAL_TOKENS,
        unknown: Unknown = "replace",
    ) -> CharTokenizer:
        """Keep the characters seen at least ``min_frequency`` times, the most frequent first, so
        that characters + special tokens + unk fit in ``max_vocab``."""
        specials = tuple(dict.fromkeys(special_tokens))
        room = max_vocab - len(specials) - 1
        if room < 1:
            raise UsageError(
                f"max_vocab {max_vocab} leaves no room for characters next to {len(specials)} special tokens and {UNK}"
            )
        if isinstance(texts, str):
            texts = [texts]
        counts: Counter[str] = Counter()
        for text in texts:
            for piece, special in split_specials(text, specials):
                if not special:
                    counts.update(piece)
        ranked = sorted((c for c, n in counts.items() if n >= min_frequency), key=lambda c: (-counts[c], ord(c)))
        return cls(ranked[:room], specials, unknown)

    def _encode_piece(self, text: str, offset: int) -> list[int]:
        stoi = self._stoi
        try:
            return [stoi[c] for c in text]
        except KeyError:
            pass
        if self._unknown == "replace":
            unk = self.unk_id
            return [stoi.get(c, unk) for c in text]
        pos = next(i for i, c in enumerate(text) if c not in stoi)
        raise TokenizerError(
            f"character {text[pos]!r} (U+{ord(text[pos]):04X}) at position {offset + pos} is not in the tokenizer's vocabulary"
        )

    # -- files ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "chars": list(self.chars),
            "special_tokens": dict(self.special_tokens),
            "unk": UNK,
            "unknown": self.unknown,
        }

    def save(self, path: Path) -> None:
        fileformat.write(path, "char", self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path) -> CharTokenizer:
        chars = fileformat.field(data, "chars", list, where)
        for i, c in enumerate(chars):
            if not isinstance(c, str) or len(c) != 1:
                raise TokenizerError(f"{where}: vocabulary entry {i} ({c!r}) is not a single character")
        if len(set(chars)) != len(chars):
            raise TokenizerError(f"{where}: the character vocabulary has duplicates")
        specials = fileformat.specials(data, len(chars), where)
        if fileformat.field(data, "unk", str, where) != UNK:
            raise TokenizerError(f"{where}: the unknown token must be {UNK!r}")
        unknown = fileformat.field(data, "unknown", str, where)
        if unknown not in UNKNOWN_POLICIES:
            raise TokenizerError(f"{where}: unknown-character policy {unknown!r} is not 'replace' or 'error'")
        return cls(chars, specials, unknown)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, chars={len(self.chars)}, unknown={self.unknown!r})"
