"""Candidate commands for a request: beam search with retrieved examples, plus the retrieved commands.

The pool: the ``beam_width`` beams of the retrieval-augmented prompt, and the commands of the
``pool`` nearest training pairs with the request's own arguments swapped in (scored by the model
under the same prompt, so every member has a comparable log-probability). Ranked by
length-normalised log-probability, plus the retrieved commands' BM25 relevance, the reviewer score
log p(request | candidate) and the agreement with the other candidates, or by the model's
trained reranker (``bash_ai.engine.rerank``) when it has one; distinct texts only.
The settings that ``bash-ai eval`` measured best on nl2bash-dev are the defaults (docs/benchmarks.md,
section "Answer quality: ablation").
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bash_ai.engine.arguments import adapt
from bash_ai.engine.beam import beam_search, prefill, sequence_logprobs
from bash_ai.engine.events import Started
from bash_ai.engine.proposal import Proposal, agree, normalised
from bash_ai.errors import UsageError, check_range
from bash_ai.model import blas
from bash_ai.retrieval.bm25 import extra_terms, question_core, terms, word_overlap

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine
    from bash_ai.engine.rerank import Reranker
    from bash_ai.retrieval import Neighbor

# The softmax temperature of the agreement after the reranker: the reranker's own probabilities
# (it is fitted as a softmax over each pool; nl2bash-dev alike at 1 and 2, 0.5 worse).
RERANK_CONSENSUS_TEMPERATURE = 1.0
# The unsure threshold of a reranker whose file has none (``DecodeConfig.unsure_below``). Tuned on
# nl2bash-dev for the bundled reranker, which predates the field: its first answers below 0.5 (one in
# five) have the right program in 16% against 53% above (docs/benchmarks.md, "Unsure answers").
DEFAULT_UNSURE_BELOW = 0.5
# Beams that write out one of the structure model's templates (``hinted_candidates``): the best
# that keeps the template is kept. On 100 nl2bash-dev requests with their references' templates as
# hints (a model trained with ``--targets hinted``, docs/benchmarks.md), greedy kept 22, 4 beams 43.
FILL_WIDTH = 4


@dataclass(frozen=True)
class DecodeConfig:
    """How candidates are proposed; every field is an ablation axis of ``bash-ai eval``."""

    retrieval_k: int = 3  # worked examples in the prompt (0: the model alone)
    beam_width: int = 5
    pool: int = 12  # nearest training commands that join the candidates
    alpha: float = 0.6  # length penalty of the ranking score
    # Weight of the reviewer score: log p(request | candidate) per request token, from the model's
    # reverse (explain) direction, added to the forward score (Coder-Reviewer reranking). 0: off.
    reviewer: float = 0.0
    # Weight of a candidate's BM25 score (relative to the best hit's) when it is a retrieved command.
    retrieval_weight: float = 4.0
    # Added to the score of a pooled (retrieved) command that no beam produced.
    retrieval_bonus: float = 1.0
    # Weight of the agreement with the other candidates: the expected NLC2CMD score of a candidate
    # against the pool, each member weighted by its softmax(score / CONSENSUS_TEMPERATURE). 0: off.
    consensus: float = 4.0
    # Drop a candidate whose programs and flags repeat a better one's (it differs only in arguments).
    distinct: bool = True
    # Rank with the model's trained reranker (bash_ai.engine.rerank) when it has one; it replaces
    # the length penalty, relevance, bonus and agreement weights above (the reviewer still adds).
    rerank: bool = True
    # With a reranker that has a review stage: re-rank its few best with the reviewer score
    # (``rerank.Review``). False: the first stage's order stands (no reverse passes).
    review: bool = True
    # With the reranker: choose the answers after the first to cover the likely programs and flags
    # (``cover``, applied by ``answer.propose_checked`` to the checked answers): each next answer the
    # one that most raises the expected NLC2CMD score of the best answer so far, the pool weighted by
    # softmax(reranker score / cover_temperature). 0: off, the reranker's order. Measured on
    # nl2bash-dev (docs/benchmarks.md, "Covering the likely answers").
    cover_temperature: float = 0.3
    # With the reranker: subtracted from the score of a candidate naming a program this machine
    # lacks (``bash_ai.engine.installed``). 0: off. Measured on everyday-dev and nl2bash-dev
    # (docs/benchmarks.md, "Everyday requests").
    missing_penalty: float = 0.5
    # With the reranker: weight of the agreement with the other candidates (``agree``), each weighted
    # by the reranker's own softmax(score), added before the first answer is chosen: a minimum Bayes
    # risk choice under the NLC2CMD score. 0: off. Tuned on nl2bash-dev, nl2bash-test top-1 0.014 ->
    # 0.046 (docs/benchmarks.md, "Agreement after the reranker").
    rerank_consensus: float = 1.0
    # A finished beam's URLs, files and paths swapped for the ones the request names where the
    # kinds pair up one to one (``arguments.adapt``; the beam copied them from its prompt's
    # examples): "set permissions of key.pem to 600" -> ``chmod 600 key.pem``, not ``chmod 600
    # file.pem``. Numbers stay, unless the beam writes out a pooled command, whose example requests
    # say which are arguments (``adapt_by_examples``). Measured on everyday-dev and nl2bash-dev
    # (docs/benchmarks.md).
    adapt_beams: bool = True
    # With a structure model: its this many best templates (beam search) that no candidate has yet,
    # each written out by the model after the request with the template as a hint
    # (``prompt.hinted_parts``; a model trained with ``--targets hinted``), join the candidates as
    # beams, scored under the same prompt. None: as many as the reranker was fitted with (its
    # ``structure_beams``; 0 without a reranker). 0: off.
    structure_beams: int | None = None
    # With the reranker: a candidate it scores below this is marked unsure (``Candidate.sure``), and
    # the faces say so beside a first answer. None: the reranker's own (``Reranker.unsure_below``,
    # found by ``train --stage rerank`` on its tuning pools), else ``DEFAULT_UNSURE_BELOW``.
    unsure_below: float | None = None
    max_tokens: int = 96

    def __post_init__(self) -> None:
        check_range("retrieval k", self.retrieval_k, 0, 8)
        check_range("beam width", self.beam_width, 1, 16)
        check_range("the retrieval pool", self.pool, 0, 16)
        check_range("alpha", self.alpha, 0, 2)
        if self.structure_beams is not None:
            check_range("structure beams", self.structure_beams, 0, 16)
        for name in (
            "reviewer",
            "retrieval_weight",
            "retrieval_bonus",
            "consensus",
            "cover_temperature",
            "missing_penalty",
            "rerank_consensus",
        ):
            check_range(f"the {name.replace('_', ' ')}", getattr(self, name), 0, 10)
        if self.unsure_below is not None:
            check_range("the unsure threshold", self.unsure_below, -100, 100)
        if self.max_tokens < 1:
            raise UsageError(f"max tokens must be at least 1 (got {self.max_tokens})")

    def unsure_threshold(self, reranker: Reranker | None) -> float:
        """The unsure threshold in force with ``reranker``: this config's, the reranker's own, or the default."""
        if self.unsure_below is not None:
            return self.unsure_below
        own = getattr(reranker, "unsure_below", None)  # None for no reranker, or one without a threshold
        return own if own is not None else DEFAULT_UNSURE_BELOW

    def replace(self, **changes: object) -> DecodeConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def propose(
    engine: Engine,
    request: str,
    config: DecodeConfig | None = None,
    *,
    banned: np.ndarray | None = None,
    cancel: threading.Event | None = None,
    on_event: Callable[[Started], None] | None = None,
) -> list[Proposal]:
    """Distinct candidates for ``request``, best first (at most ``beam_width + pool``).

    ``on_event`` gets one ``Started`` event (its ``truncated`` says the request was cut to fit).
    """
    config = config if config is not None else DecodeConfig()
    request, found = pool_neighbors(engine, request, config)
    # The example's arguments swapped for the ones the request names (bash_ai.engine.arguments).
    relevance: dict[str, float] = {}
    best = max([n.score for n in found], default=0.0)  # the lexicon may have put another first
    retrieved = pooled_commands(request, found[: config.pool])
    examples, match, excess, origins = retrieved.examples, retrieved.match, retrieved.excess, retrieved.origins
    for text, asked in retrieved.adapted:
        relevance.setdefault(text, asked[0].score / max(best, 1e-6))
    pooled = list(relevance)
    encoded = {text: engine.encode_text(text) + [engine.eot_id] for text in pooled}
    # Room for the longest answer: the beams' budget, or a pooled command if longer.
    reserve = max([config.max_tokens, *map(len, encoded.values())])
    full = engine.ask_ids(request, found[: config.retrieval_k], reserve=reserve)
    prompt, dropped = engine.fit_prompt(full, reserve)
    if on_event is not None:
        on_event(Started(prompt_tokens=len(prompt), truncated=dropped > 0, dropped_tokens=dropped, n=1))
    never = engine.never_ids  # other special tokens would end a candidate mid-command
    # Terminal control bytes only when the request asks for them (bash_ai.safety.control).
    for extra in (engine.answer_bans(request), banned):
        if extra is not None:
            # not np.union1d: its np.unique imports numpy.ma (~8 ms of a cold start)
            never = np.array(sorted(set(never.tolist()).union(np.asarray(extra).tolist())), dtype=np.int64)
    with blas.threads(engine.prefill_threads):  # both cores where this process answers alone
        shared = prefill(engine.model, prompt)  # the prompt runs once, for the beams and the pooled commands
    # The pooled commands are scored on a second core while the beams search on this one: both only
    # read the shared prompt cache (numpy releases the GIL in its matmuls).
    room = engine.context_length - len(prompt)
    fits = [(text, encoded[text]) for text in pooled if text and len(encoded[text]) <= room]
    scoring = _scoring_pool().submit(sequence_logprobs, engine.model, prompt, [ids for _, ids in fits], shared)
    reranker = engine.reranker if config.rerank else None
    # With a structure model the reranker wants, it loads and scores the pooled commands' templates
    # beside the beams too; the beams' own templates are scored after them.
    structure = None
    if reranker is not None and reranker.wants_structure:
        structure = _scoring_pool().submit(engine.structure_logprobs, request, [text for text, _ in fits], found)
    try:
        beams = beam_search(
            engine.model,
            prompt,
            engine.eot_id,
            width=config.beam_width,
            max_tokens=config.max_tokens,
            banned=never,
            cancel=cancel,
            prefilled=shared,
        )
    finally:
        logprobs = scoring.result()
    if cancel is not None and cancel.is_set():
        return []  # nobody waits for this answer now: skip the scoring that would rank it
    out: dict[str, Proposal] = {}
    for beam in beams:
        text = engine.tokenizer.decode(list(beam.tokens)).strip()
        if config.adapt_beams and beam.finish_reason == "eos":
            # A file copied from an example -> the request's; numbers only where the example is known.
            text = adapt_by_examples(text, [n.request for n in examples.get(text, [])], request)
        if text and text not in out:
            score = beam.score(config.alpha)
            out[text] = Proposal(
                text,
                "beam",
                beam.logprob,
                len(beam.tokens),
                score,
                beam.finish_reason,
                relevance.get(text, 0.0),
                match.get(text, 0.0),
                origins.get(text, ()),
                excess.get(text, 0),
            )
    for (text, ids), lp in zip(fits, logprobs, strict=True):
        if text in out:
            continue  # a beam wrote it too: the beam's entry stands
        score = normalised(lp, len(ids) - 1, config.alpha) + config.retrieval_bonus
        out[text] = Proposal(
            text,
            "retrieval",
            lp,
            len(ids) - 1,
            score,
            retrieval=relevance[text],
            match=match[text],
            origins=origins[text],
            excess=excess[text],
        )
    structure_beams = config.structure_beams
    if structure_beams is None:
        structure_beams = reranker.structure_beams if reranker is not None else 0
    if structure_beams and engine.structure is not None and not (cancel is not None and cancel.is_set()):
        written = hinted_candidates(
            engine, request, found, list(out), prompt, shared, config, never, structure_beams, cancel
        )
        for text, proposal in written.items():
            out.setdefault(text, proposal)
    if reranker is not None:
        templates = None
        if structure is not None:
            known = dict(zip([text for text, _ in fits], structure.result(), strict=True))
            rest = [text for text in out if text not in known]
            known.update(zip(rest, engine.structure_logprobs(request, rest, found), strict=True))
            templates = np.array([known[text] for text in out])
        pool = list(out.values())

        def review(chosen: Sequence[int]) -> np.ndarray:
            with blas.threads(engine.prefill_threads):  # a batched forward, as the prompt's
                return engine.review_logprobs(request, [pool[i].text for i in chosen])

        stopped = cancel is not None and cancel.is_set()
        ranked = reranker.rescore(request, pool, templates, None if stopped or not config.review else review)
        proposals = penalise_missing(ranked, config.missing_penalty)
        if config.rerank_consensus > 0 and len(proposals) > 1:
            proposals = agree(proposals, config.rerank_consensus, temperature=RERANK_CONSENSUS_TEMPERATURE)
    else:
        proposals = [replace(p, score=p.score + config.retrieval_weight * p.retrieval) for p in out.values()]
    if config.reviewer > 0 and proposals and not (cancel is not None and cancel.is_set()):
        proposals = _review(engine, request, proposals, config.reviewer)
    if reranker is None and config.consensus > 0 and len(proposals) > 1:
        proposals = agree(proposals, config.consensus)
    # A hypothesis cut at the token limit is a broken command: after every one that ended.
    return sorted(proposals, key=lambda p: (p.finish_reason != "eos", -p.score))


def hinted_candidates(
    engine: Engine,
    request: str,
    found: Sequence[Neighbor],
    have: Sequence[str],
    prompt: Sequence[int],
    shared: tuple[object, np.ndarray],
    config: DecodeConfig,
    never: np.ndarray,
    width: int,
    cancel: threading.Event | None = None,
) -> dict[str, Proposal]:
    """The structure model's ``width`` best templates for ``request`` (its prompt carrying ``found``,
    the request's neighbours, where it trained with examples) that none of ``have`` shares, each written out by the model after the request with the template as a hint
    (``Engine.hinted_ids``; beam search, ``FILL_WIDTH`` wide: the best command that keeps the
    template, none when no beam does), its files swapped for the request's as a beam's are; each
    scored under ``prompt`` (whose prefill is ``shared``) so that it ranks beside the beams. A set
    ``cancel`` stops writing: what is written by then is scored."""
    from bash_ai.templates import command_template

    known = {command_template(text) for text in have}
    room = engine.context_length - len(prompt)
    written: dict[str, None] = {}
    for template in engine.structure_templates(request, width, found):
        if cancel is not None and cancel.is_set():
            break
        if template in known:
            continue
        ids = engine.hinted_ids(request, template)
        if len(ids) + 1 >= engine.context_length:
            continue  # no room to write anything (beam search also stops at the context's end)
        beams = beam_search(
            engine.model,
            ids,
            engine.eot_id,
            width=FILL_WIDTH,
            max_tokens=config.max_tokens,
            banned=never,
            cancel=cancel,
        )
        texts = (engine.tokenizer.decode(list(b.tokens)).strip() for b in beams if b.finish_reason == "eos")
        text = next((t for t in texts if t and command_template(t) == template), "")
        if text and config.adapt_beams:
            text = adapt_by_examples(text, [], request)
        if text and text not in have:
            written[text] = None
    fits = [(text, engine.encode_text(text) + [engine.eot_id]) for text in written]
    fits = [(text, ids) for text, ids in fits if len(ids) <= room]
    logprobs = sequence_logprobs(engine.model, prompt, [ids for _, ids in fits], shared)
    return {
        text: Proposal(text, "beam", lp, len(ids) - 1, normalised(lp, len(ids) - 1, config.alpha), "eos")
        for (text, ids), lp in zip(fits, logprobs, strict=True)
    }


def pool_neighbors(engine: Engine, request: str, config: DecodeConfig) -> tuple[str, list[Neighbor]]:
    """The request as it is answered (``question_core``: "how do i list open ports" -> "list open
    ports") and its nearest training pairs, as many as the prompt and the pool take."""
    request = question_core(request)
    index_k = max(config.retrieval_k, config.pool)
    return request, engine.neighbors(request, index_k) if index_k else []


@dataclass(frozen=True)
class Pooled:
    """The pool's retrieved commands for a request, and what their training requests say."""

    # Each command with the requests it answers, best first: a command is adapted by the first of
    # them that changes it, and so is a beam that writes the command out.
    examples: dict[str, list[Neighbor]]
    adapted: list[tuple[str, list[Neighbor]]]  # each command adapted to the request, in the pool's order
    # For each adapted command: how nearly a request that asked for it says the request
    # (``Proposal.match``), how many words one says that the request does not (``Proposal.excess``),
    # and the sources of those requests (``Proposal.origins``).
    match: dict[str, float]
    excess: dict[str, int]
    origins: dict[str, tuple[str, ...]]


def pooled_commands(request: str, found: Sequence[Neighbor]) -> Pooled:
    """The pool's retrieved commands for ``request`` (``question_core`` already taken) from its
    neighbours ``found``; commands that adapt to nothing are left out."""
    examples: dict[str, list[Neighbor]] = {}
    for n in found:
        examples.setdefault(n.command.strip(), []).append(n)
    adapted = []
    for command, asked in examples.items():
        text = adapt_by_examples(command, [n.request for n in asked], request)
        if text:
            adapted.append((text, asked))
    match: dict[str, float] = {}
    excess: dict[str, int] = {}
    origins: dict[str, tuple[str, ...]] = {}
    said = set(terms(request))
    for text, asked in adapted:
        match[text] = max(match.get(text, 0.0), *(word_overlap(said, n.request) for n in asked))
        fewest = min(extra_terms(said, n.request) for n in asked)
        excess[text] = min(excess.get(text, fewest), fewest)
        origins[text] = tuple(sorted({*origins.get(text, ()), *(n.source for n in asked)}))
    return Pooled(examples, adapted, match, excess, origins)


def adapt_by_examples(command: str, examples: Sequence[str], request: str) -> str:
    """``command`` with the request's arguments (``arguments.adapt``), by the first of the example
    requests it answers that changes it; with none (a beam of the model's own), by the request alone
    and with its numbers kept: without an example to say which numbers are arguments, ``-maxdepth
    1`` is as likely as ``-mtime 7``."""
    for example in examples:
        text = adapt(command, example, request)
        if text != command:
            return text
    return command if examples else adapt(command, "", request, swap_numbers=False)


def penalise_missing(proposals: list[Proposal], penalty: float) -> list[Proposal]:
    """``proposals`` with ``penalty`` taken from the score of each that names a program this
    machine does not have."""
    if not penalty:
        return proposals
    from bash_ai.engine.installed import missing_programs

    return [replace(p, score=p.score - penalty) if missing_programs(p.text) else p for p in proposals]


@functools.cache
def _scoring_pool() -> ThreadPoolExecutor:
    """Threads beside the callers' for scoring pooled commands (two: concurrent requests do not queue)."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="bash-ai-pool")


def cover(proposals: list[Proposal], temperature: float, k: int = 5) -> list[Proposal]:
    """The ``k`` first of ``proposals`` (ranked best first, as shown) chosen to cover what the request may want.

    The pool is read as a distribution over the right answer, each ended candidate weighted by
    softmax(score / ``temperature``). The first answer stays the best-scored; each next one is the
    candidate that most raises the expected NLC2CMD score of the best answer shown so far (a greedy
    maximum-coverage choice), so five answers are five different guesses, not five variants of the
    first. Candidates whose programs and flags repeat a chosen one's add nothing and come after;
    the rest keep their order, hypotheses cut at the token limit last.
    """
    from bash_ai.nlc2cmd import parsed_score, parsed_structure, utility_flags

    ended = [p for p in proposals if p.finish_reason == "eos"]
    if len(ended) < 2:
        return proposals
    parsed = [utility_flags(p.text) for p in ended]
    structures = [parsed_structure(p) for p in parsed]
    scores = np.array([p.score for p in ended])
    weights = np.exp((scores - scores.max()) / temperature)
    weights /= weights.sum()
    # pair[i, j]: candidate i's NLC2CMD score were candidate j the right answer (-1 if either is unreadable).
    pair = np.array([[parsed_score(a, b) if a and b else -1.0 for b in parsed] for a in parsed])
    chosen, shown = [0], {structures[0]}
    best = pair[0].copy()
    while len(chosen) < min(k, len(ended)):
        gains = [
            -math.inf if structures[i] in shown else float(np.maximum(best, pair[i]) @ weights)
            for i in range(len(ended))
        ]
        pick = int(np.argmax(gains))
        if gains[pick] == -math.inf:
            break
        chosen.append(pick)
        shown.add(structures[pick])
        best = np.maximum(best, pair[pick])
    order = chosen + [i for i in range(len(ended)) if i not in chosen]
    return [ended[i] for i in order] + [p for p in proposals if p.finish_reason != "eos"]


def _review(engine: Engine, request: str, proposals: list[Proposal], weight: float) -> list[Proposal]:
    """Add ``weight`` x the per-token log p(request | candidate) to each candidate's score."""
    reverse = engine.review_logprobs(request, [p.text for p in proposals])
    return [
        replace(p, score=p.score + weight * r) if math.isfinite(r) else p
        for p, r in zip(proposals, reverse, strict=True)
    ]
