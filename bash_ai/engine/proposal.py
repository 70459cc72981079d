"""One candidate of the pool (``Proposal``) and the ranking maths the proposer and the reranker
share: the length-normalised log-probability and the agreement (minimum Bayes risk) term."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from bash_ai.engine.beam import Beam

if TYPE_CHECKING:
    from bash_ai.nlc2cmd import Parsed

Source = Literal["beam", "retrieval"]


@dataclass(frozen=True)
class Proposal:
    """One candidate: its text, where it came from, and its model log-probability given the prompt."""

    text: str
    source: Source
    logprob: float
    n_tokens: int
    score: float  # the ranking score (length-normalised log-probability, then the rerank terms)
    finish_reason: str = "eos"
    retrieval: float = 0.0  # BM25 score relative to the best hit's, when a retrieved command
    # When a retrieved command: the most of its words the request shares with a training request
    # that asked for it (Jaccard of the index's terms; 1.0 for the same words). ``retrieval`` is
    # relative to the best hit, so it cannot tell a request said in other words from a weak match.
    match: float = 0.0
    # The index sources ("howto", "tldr", "nl2bash") of the training pairs that asked for it, when a
    # retrieved command (or a beam that wrote one out): the ``SOURCE_COLUMNS`` of the reranker.
    origins: tuple[str, ...] = ()
    # When a retrieved command (or a beam that wrote one out): the fewest content words a training
    # request that asked for it says and the request does not (``bm25.extra_terms``); the
    # reranker's ``EXCESS`` column.
    excess: int = 0

    @property
    def confidence(self) -> float:
        """The geometric-mean token probability, in (0, 1]: comparable across lengths."""
        return float(math.exp(self.logprob / max(1, self.n_tokens + 1)))


# The softmax temperature of the consensus weights (measured on nl2bash-dev: 2 and 4 alike, 0.5 worse).
CONSENSUS_TEMPERATURE = 4.0


def normalised(logprob: float, n_tokens: int, alpha: float) -> float:
    """A log-probability normalised by length the way beam search ranks its hypotheses (``Beam.score``)."""
    return Beam(tuple(range(n_tokens)), logprob, "eos").score(alpha)


def agree(
    proposals: list[Proposal],
    weight: float,
    parsed: Mapping[str, Parsed] | None = None,
    temperature: float = CONSENSUS_TEMPERATURE,
) -> list[Proposal]:
    """Add ``weight`` x the expected NLC2CMD score of each candidate against the others (a minimum
    Bayes risk rerank): what most of the likely candidates agree on (programs, flags) moves up.
    The others are weighted by softmax(score / ``temperature``), the candidates cut at the token
    limit left out.

    ``parsed``: each text's ``utility_flags``, when the caller has them already."""
    from bash_ai.nlc2cmd import parsed_score, utility_flags

    ended = [p for p in proposals if p.finish_reason == "eos"] or proposals
    top = max(p.score for p in ended)
    weights = np.array([math.exp((p.score - top) / temperature) for p in ended])
    weights /= weights.sum()
    if parsed is None:
        parsed = {p.text: utility_flags(p.text) for p in proposals}  # each parsed once

    def expected(text: str) -> float:
        mine = parsed[text]
        return float(sum(w * parsed_score(mine, parsed[q.text]) for q, w in zip(ended, weights, strict=True)))

    return [replace(p, score=p.score + weight * expected(p.text)) for p in proposals]
