"""Byte-level BPE: ids 0..255 are the bytes, merge ``i`` makes id ``256 + i``, and the special
tokens take the ids right after the last merge, so ``vocab_size = 256 + n_merges + n_special``.

Any string encodes (there is no unknown token) and ``decode(encode(s)) == s`` for every string
without lone surrogates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bash_ai.errors import TokenizerError, UsageError
from bash_ai.prompt import SPECIAL_TOKENS
from bash_ai.tokenizer import fileformat
from bash_ai.tokenizer.base import TokenizerBase
from bash_ai.tokenizer.bpe_train import MAX_VOCAB, SHIFT, count_chunks, train_merges
from bash_ai.tokenizer.pretokenize import PATTERNS, PRETOKENIZER, finder, split_specials

_CACHE_SIZE = 1 << 16


# The longest token a loaded file may define (ours are at most a few dozen bytes).
MAX_TOKEN_BYTES = 256


class BPETokenizer(TokenizerBase):
    def __init__(
        self,
        merges: Sequence[tuple[int, int]],
        special_tokens: Iterable[str] = SPECIAL_TOKENS,
        pretokenizer: str = PRETOKENIZER,
    ) -> None:
        """Trusted input (a trainer's output); ``from_dict`` validates a file first."""
        self.merges = [(int(a), int(b)) for a, b in merges]
        self.pretokenizer = pretokenizer
        self._regex = finder(pretokenizer)
        self._ranks: dict[int, int] = {}  # pair key -> the id the merge makes (lower = earlier)
        self._token_bytes = [bytes([i]) for i in range(256)]
        for i, (a, b) in enumerate(self.merges):
            self._ranks[a << SHIFT | b] = 256 + i
            self._token_bytes.append(self._token_bytes[a] + self._token_bytes[b])
        first = len(self._token_bytes)
        self.special_tokens = {text: first + i for i, text in enumerate(dict.fromkeys(special_tokens))}
        self._token_bytes.extend(text.encode("utf-8") for text in self.special_tokens)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        special_tokens: Iterable[str] = SPECIAL_TOKENS,
        min_frequency: int = 2,
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges (fewer if the corpus runs out of
        pairs seen ``min_frequency`` times). Special-token text in ``texts`` is cut out first."""
        specials = tuple(dict.fromkeys(special_tokens))
        n_merges = vocab_size - 256 - len(specials)
        if n_merges < 0:
            raise UsageError(
                f"vocab_size {vocab_size} is too small: 256 bytes and {len(specials)} special tokens need at least {256 + len(specials)}"
            )
        if vocab_size > MAX_VOCAB:
            raise UsageError(f"vocab_size {vocab_size} is too large (at most {MAX_VOCAB})")
        if isinstance(texts, str):
            texts = [texts]
        regex = finder(PRETOKENIZER)

        def pieces() -> Iterable[str]:
            for text in texts:
                for piece, special in split_specials(text, specials):
                    if not special:
                        yield piece

        chunks = count_chunks(pieces(), regex.findall)
        return cls(train_merges(chunks, n_merges, min_frequency), specials)

    # -- encoding -------------------------------------------------------------------------------

    def _encode_piece(self, text: str, offset: int) -> list[int]:
        cache = self._cache
        ids: list[int] = []
        for chunk in self._regex.findall(text):
            hit = cache.get(chunk)
            if hit is None:
                hit = self._bpe(chunk)
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[chunk] = hit
            ids.extend(hit)
        return ids

    def _bpe(self, chunk: str) -> list[int]:
        """Apply merges to one chunk, earliest-learned pair first, all its occurrences left to right
        (the order HF's BPE model uses, so the export encodes identically)."""
        ids = list(chunk.encode("utf-8", "surrogatepass"))
        ranks = self._ranks
        none = len(self._token_bytes)
        while len(ids) > 1:
            best, made = 0, none
            for a, b in zip(ids, ids[1:], strict=False):
                key = a << SHIFT | b
                rank = ranks.get(key, none)
                if rank < made:
                    best, made = key, rank
            if made == none:
                break
            a, b = best >> SHIFT, best & (MAX_VOCAB - 1)
            out: list[int] = []
            i, n = 0, len(ids)
            while i < n:
                if i + 1 < n and ids[i] == a and ids[i + 1] == b:
                    out.append(made)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        return ids

    # -- files ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "pretokenizer": self.pretokenizer,
            "merges": [list(m) for m in self.merges],
            "special_tokens": dict(self.special_tokens),
        }

    def save(self, path: Path) -> None:
        fileformat.write(path, "bpe", self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path) -> BPETokenizer:
        """Build from a parsed file, checking every merge and id; errors name ``where``."""
        pretokenizer = fileformat.field(data, "pretokenizer", str, where)
        if pretokenizer not in PATTERNS:
            raise TokenizerError(f"{where}: unknown pre-tokenizer {pretokenizer!r}")
        raw = fileformat.field(data, "merges", list, where)
        if 256 + len(raw) > MAX_VOCAB:
            raise TokenizerError(f"{where}: too many merges ({len(raw)})")
        merges: list[tuple[int, int]] = []
        seen_bytes = {bytes([i]) for i in range(256)}
        token_bytes = [bytes([i]) for i in range(256)]
        for i, merge in enumerate(raw):
            new = 256 + i
            ok = isinstance(merge, list) and len(merge) == 2 and all(type(x) is int and 0 <= x < new for x in merge)
            if not ok:
                raise TokenizerError(f"{where}: merge {i} ({merge!r}) is not a pair of earlier token ids")
            if len(token_bytes[merge[0]]) + len(token_bytes[merge[1]]) > MAX_TOKEN_BYTES:
                # Merges that double a token's length reach gigabytes in a few dozen lines.
                raise TokenizerError(f"{where}: merge {i} makes a token longer than {MAX_TOKEN_BYTES} bytes")
            data_i = token_bytes[merge[0]] + token_bytes[merge[1]]
            if data_i in seen_bytes:
                raise TokenizerError(f"{where}: merge {i} ({merge!r}) repeats the bytes of an earlier token")
            seen_bytes.add(data_i)
            token_bytes.append(data_i)
            merges.append((merge[0], merge[1]))
        specials = fileformat.specials(data, 256 + len(merges), where)
        return cls(merges, specials, pretokenizer)

    def to_hf_json(self, path: Path) -> None:
        """Write a ``tokenizer.json`` that HF ``tokenizers`` loads and that encodes the same ids."""
        from bash_ai.tokenizer.hf import write_hf_json

        write_hf_json(
            path,
            self._token_bytes[: 256 + len(self.merges)],
            self.merges,
            self.special_tokens,
            PATTERNS[self.pretokenizer],
        )

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, specials={len(self.special_tokens)})"
