"""What both tokenizers share: special-token handling and decoding through per-token bytes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Literal

from bash_ai.errors import TokenizerError, UsageError
from bash_ai.prompt import EOT
from bash_ai.tokenizer.pretokenize import split_specials

AllowedSpecial = Literal["all", "none"] | Collection[str]


class TokenizerBase:
    """Subclasses fill ``_token_bytes`` (one entry per id) and ``special_tokens``, and implement
    ``_encode_piece`` for text without special tokens."""

    _token_bytes: list[bytes]
    special_tokens: dict[str, int]

    @property
    def vocab_size(self) -> int:
        return len(self._token_bytes)

    @property
    def eot_id(self) -> int:
        return self.id_of(EOT)

    def id_of(self, special: str) -> int:
        try:
            return self.special_tokens[special]
        except KeyError:
            raise TokenizerError(f"the tokenizer has no special token {special!r}") from None

    def _allowed(self, allowed_special: AllowedSpecial) -> Collection[str]:
        if isinstance(allowed_special, str):
            if allowed_special == "all":
                return self.special_tokens.keys()
            if allowed_special == "none":
                return ()
            raise UsageError(
                f"allowed_special must be 'all', 'none' or a set of special tokens, not {allowed_special!r}"
            )
        unknown = [s for s in allowed_special if s not in self.special_tokens]
        if unknown:
            raise UsageError(f"not special tokens of this tokenizer: {', '.join(map(repr, sorted(unknown)))}")
        return allowed_special

    def encode(self, text: str, allowed_special: AllowedSpecial = "none") -> list[int]:
        """Token ids of ``text``; special-token text becomes its single id only if allowed."""
        allowed = self._allowed(allowed_special)
        if not allowed or not any(s in text for s in allowed):
            return self._encode_piece(text, 0)
        ids: list[int] = []
        offset = 0
        for piece, special in split_specials(text, allowed):
            if special:
                ids.append(self.special_tokens[piece])
            else:
                ids.extend(self._encode_piece(piece, offset))
            offset += len(piece)
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """``encode(text, allowed_special="none")``: special-token text is plain text."""
        return self._encode_piece(text, 0)

    def _encode_piece(self, text: str, offset: int) -> list[int]:
        raise NotImplementedError

    def token_bytes(self, token_id: int) -> bytes:
        return self.decode_bytes((token_id,))

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of ``ids``; a streaming decoder may receive part of a UTF-8 character."""
        table = self._token_bytes
        try:
            return b"".join([table[i] for i in _checked(ids, len(table))])
        except TypeError:
            raise TokenizerError("token ids must be integers") from None

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; bytes that are not valid UTF-8 become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def _checked(ids: Iterable[int], size: int) -> Sequence[int]:
    ids = ids if isinstance(ids, list | tuple) else list(ids)
    if ids and not (min(ids) >= 0 and max(ids) < size):
        bad = next(i for i in ids if not 0 <= i < size)
        raise TokenizerError(f"token id {bad} is outside the tokenizer's vocabulary (0..{size - 1})")
    return ids
