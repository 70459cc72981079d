"""The typed events the engine streams. Faces (CLI, REPL, HTTP server) only render these.

Order of one ``Engine.stream`` call: ``Started``, then interleaved ``TokenEvent`` / ``Finished``
(one ``Finished`` per candidate, as each ends), then ``Stats``. A cancelled stream just stops:
candidates that had not finished get no ``Finished``, and there is no ``Stats``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FinishReason = Literal["stop", "eos", "length"]


@dataclass(frozen=True)
class Started:
    """The prompt is encoded. ``truncated``: ``dropped_tokens`` were cut from its left to fit."""

    prompt_tokens: int
    truncated: bool
    dropped_tokens: int = 0
    n: int = 1


@dataclass(frozen=True)
class TokenEvent:
    """One sampled token of candidate ``index``.

    ``text`` is the newly displayable text: whole UTF-8 characters only, never part of a stop
    string, so it may be empty while bytes or a possible stop prefix are held back. Concatenating
    a candidate's ``text`` pieces gives exactly its ``Finished.text``.
    """

    index: int
    text: str
    token_id: int


@dataclass(frozen=True)
class Finished:
    """Candidate ``index`` ended: at a stop string (``stop``, not included in ``text``), at an
    end-of-text or other special token (``eos``), or at max_tokens / the context limit (``length``).
    ``n_tokens`` counts the tokens it generated, the ending special token excluded."""

    index: int
    text: str
    finish_reason: FinishReason
    n_tokens: int


@dataclass(frozen=True)
class Stats:
    """Timings of the whole call (all candidates together)."""

    prompt_tokens: int
    generated_tokens: int
    prefill_s: float
    decode_s: float
    tokens_per_s: float


Event = Started | TokenEvent | Finished | Stats
