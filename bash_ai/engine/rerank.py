"""The trained reranker of a model's candidates (``reranker.safetensors`` in the model directory).

Two parts, both trained by ``bash-ai train --stage rerank`` (``trainer/rerank.py``):

- a **lexicon**: one weight per (request word, command part) pair, hashed into ``2**bits``
  slots, where the parts of a command are its programs, its programs' flags and its first
  program (``ls``, ``ls:-S``, ``first:ls``) plus its pipeline length. It is learnt from the
  model's own training pairs alone: each request against the commands of its nearest training
  requests, to score like the NLC2CMD metric. It knows what BM25 cannot: which words of a
  request call for which program and flag ("size" -> ``ls -S``, ``du``, ``sort -h``).
- a **linear model** over each candidate's features (its log-probability two ways, where it came
  from, its BM25 relevance, the hand-set ranking score and its agreement term, the lexicon
  score, how many of the request's own arguments it names and how many it makes up), fitted on
  the proposals for the tuning suites (nl2bash-dev, and everyday-tune where the fit was given its
  pools; a test split is never seen). With a structure model in the model directory
  (``bash_ai.engine.structure``), one more feature: how likely the candidate's template is for the
  request; with ``PROGRAMS`` columns, whether the candidate runs a program the request names by its
  name (the model index's ``program_table``, stored in the file); with ``SOURCE_COLUMNS``, whether a
  how-to or a tldr pair asked for the candidate; with ``SHORT_PREFIX`` columns,
  every feature again for short requests; the file lists the features it was fitted on.
- optionally a **review stage**: a second linear model over the same features plus the reviewer
  score, log p(request | candidate) per request token by the model's own reverse (explain)
  direction, that re-ranks the first model's ``top`` best finished candidates (Coder-Reviewer
  reranking). Only those few are reviewed: the reverse score costs a model pass per candidate.

Numpy only: loading costs a few milliseconds and scoring a pool under one.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bash_ai.engine.arguments import invented, named_share, request_arguments
from bash_ai.errors import ModelError
from bash_ai.model_files import RERANKER_FILE
from bash_ai.prompt import is_short
from bash_ai.retrieval.bm25 import STOP_WORDS as _STOP

if TYPE_CHECKING:
    from bash_ai.engine.proposal import Proposal
    from bash_ai.nlc2cmd import Parsed
    from bash_ai.retrieval import Neighbor

FORMAT = "bash-ai-reranker"
FORMAT_VERSION = "2"
REVIEW_FORMAT_VERSION = "3"  # a file with a review stage (older bash-ai refuses it rather than rank without it)
FEATURES = (
    "logprob_norm",  # length-normalised log-probability (alpha 0.6)
    "logprob_per_token",
    "retrieved",  # 1 for a pooled training command
    "relevance",  # its BM25 score relative to the best hit's
    "beam_and_retrieved",  # a beam that is also a retrieved command
    "agreement",  # the MBR term of the hand-set ranking
    "prior_score",  # the hand-set ranking score without it
    "lexicon",
    "named",  # the share of the request's URLs, files, paths, numbers and file kinds the candidate names
    "invented",  # the candidate's arguments the request does not name (at most 4)
)
# With a structure model in the model directory (``bash_ai.engine.structure``), one more feature:
# the log-probability of the candidate's template after the request.
STRUCTURE = "structure"
# And after it, where the fit asked for it (``RerankSpec.match``): how nearly a training request that
# asked for the candidate says the request's words (``Proposal.match``).
MATCH = "match"
# And after it, where the fit asked for them (``RerankSpec.programs``): whether the candidate runs a
# program the request names by its name ("whois example.com", "curl a url and follow redirects"),
# and whether it runs none of those the request names, each weighed by how often a training request
# that says the program's name has a command that runs it (``program_table``: "find" 0.93, "sort"
# 0.74, "file" and "last" 0.01, since "the last line of a file" asks for neither).
PROGRAM_NAMED = "program_named"
PROGRAM_MISSED = "program_missed"
PROGRAMS = (PROGRAM_NAMED, PROGRAM_MISSED)
# And after them, where the fit asked for them (``RerankSpec.sources``): whether a training pair of
# bash-ai's own how-to pairs, or of tldr, asked for the candidate (``Proposal.origins``; NL2Bash's
# pairs are the rest). On everyday-dev2 a first answer retrieved from NL2Bash scored -0.03, one from
# the how-to pairs 0.45; on nl2bash-dev the other way round.
SOURCE_COLUMNS = {"from_howto": "howto", "from_tldr": "tldr"}
# And after them, where the fit asked for it (``RerankSpec.excess``): how many words a training
# request that asked for the candidate says and the request does not (``Proposal.excess``, at most
# ``MAX_EXCESS``): "show the first 15 lines of notes.txt" is not "print lines 5 to 15 of file"
# (``sed -n '5,15p'``), "how many lines does main.c have" not "count the blank lines ...".
EXCESS = "excess"
MAX_EXCESS = 6
# And last, where the fit asked for it (``RerankSpec.short``): every column above again, times 1 for a
# short request (at most ``SHORT_WORDS`` words) and 0 for a longer one. NL2Bash's long requests never
# have a retrieved command as their reference (its split keeps commands apart), everyday requests
# often do: with these columns one fit weighs the same evidence differently for each.
SHORT_PREFIX = "short*"


def feature_names(
    structure: bool = False,
    match: bool = False,
    short: bool = False,
    programs: bool = False,
    sources: bool = False,
    excess: bool = False,
) -> tuple[str, ...]:
    """The columns ``candidate_features`` writes with these options, in its order."""
    names = (
        *FEATURES,
        *([STRUCTURE] if structure else []),
        *([MATCH] if match else []),
        *(PROGRAMS if programs else ()),
        *(SOURCE_COLUMNS if sources else ()),
        *([EXCESS] if excess else []),
    )
    return (*names, *(SHORT_PREFIX + name for name in names)) if short else names


FEATURE_SETS = tuple(
    feature_names(structure, match, short, programs, sources, excess)
    for excess in (False, True)
    for sources in (False, True)
    for programs in (False, True)
    for short in (False, True)
    for match in (False, True)
    for structure in (False, True)
)
# The review stage's one more feature: log p(request | candidate) per request token.
REVIEWER = "reviewer"
# The reviewer score of a candidate too long to review (lower than any measured on nl2bash-dev).
UNREVIEWED = -20.0
# The hand-set ranking the features describe (DecodeConfig's defaults when the reranker was made).
PRIOR_ALPHA, PRIOR_RELEVANCE, PRIOR_BONUS, PRIOR_CONSENSUS = 0.6, 4.0, 1.0, 4.0

_WORD = re.compile(r"[a-z][a-z0-9]*|\d+")
_NAME = re.compile(r"[a-z][a-z0-9]*")  # a program's name that can be a request word
# The score of a candidate the lexicon cannot read (no program in it).
UNREADABLE = -5.0
MAX_INVENTED = 4


def request_words(request: str) -> list[str]:
    """The distinct lowercased words of a request, stop words left out."""
    return sorted({w for w in _WORD.findall(request.lower()) if w not in _STOP})


def command_parts(parsed: Parsed) -> list[str]:
    """What the lexicon knows of a command parsed by ``nlc2cmd.utility_flags``."""
    out = []
    for i, (utility, flags) in enumerate(parsed):
        out.append("U:" + utility)
        out.extend(f"F:{utility}:{flag}" for flag in sorted(flags))
        if i == 0:
            out.append("FIRST:" + utility)
    out.append(f"N:{min(len(parsed), 4)}")
    return out


def program_table(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """For every program the ``pairs``' commands run whose name is a request word (``request_words``),
    how often a request that says its name has a command that runs it, smoothed: (runs + 1) /
    (says + 2), so 0.5 for a program no request names ("whois"), 0.01 for "file". Two decimals."""
    from bash_ai.nlc2cmd import utility_flags

    rows = [(request_words(request), {utility for utility, _ in utility_flags(command)}) for request, command in pairs]
    programs = set().union(*(ran for _, ran in rows)) if rows else set()
    says: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    for words, ran in rows:
        for word in programs.intersection(words):
            says[word] += 1
            runs[word] += word in ran
    return {p: round((runs[p] + 1) / (says[p] + 2), 2) for p in sorted(programs) if _NAME.fullmatch(p)}


def program_columns(words: Sequence[str], parsed: Parsed | None, programs: Mapping[str, float]) -> tuple[float, float]:
    """``PROGRAMS`` of a candidate (parsed by ``nlc2cmd.utility_flags``) for a request's ``words``:
    the largest ``program_table`` share of the programs the request names that it runs, and of those
    it names and the candidate does not run (0.0 where there are none)."""
    named = [(programs[w], w) for w in words if w in programs]
    if not named:
        return 0.0, 0.0
    ran = {utility for utility, _ in parsed or ()}
    return max((p for p, w in named if w in ran), default=0.0), max((p for p, w in named if w not in ran), default=0.0)


def hashed_ids(words: Sequence[str], parts: Sequence[str], bits: int) -> np.ndarray:
    """Slots of a candidate's lexicon features: each part alone (its prior) and each word x part."""
    mask = (1 << bits) - 1
    keys = [*parts, *(f"{w}|{p}" for w in words for p in parts)]
    return np.fromiter((zlib.crc32(k.encode()) & mask for k in keys), dtype=np.int64, count=len(keys))


def lexicon_bits(lexicon: np.ndarray) -> int:
    """``bits`` of a lexicon of ``2**bits`` slots."""
    return int(lexicon.shape[0]).bit_length() - 1


def lexicon_score(lexicon: np.ndarray, ids: np.ndarray) -> float:
    """Mean-like sum of the slots' weights (divided by the square root of their number)."""
    return float(lexicon[ids].sum()) / max(1.0, math.sqrt(len(ids)))


def command_score(lexicon: np.ndarray, words: Sequence[str], parsed: Parsed | None, bits: int) -> float:
    """The lexicon's score of a command (parsed by ``nlc2cmd.utility_flags``) for a request's
    ``words``; ``UNREADABLE`` for a command it cannot read."""
    return lexicon_score(lexicon, hashed_ids(words, command_parts(parsed), bits)) if parsed else UNREADABLE


# Scores the candidates at the given positions of a pool with the reviewer (``REVIEWER``).
ReviewFn = Callable[[Sequence[int]], np.ndarray]
# How far below the last reviewed candidate the best unreviewed one is put.
REST_GAP = 1e-3


def linear_scores(features: np.ndarray, weights: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """A linear stage's score of each row of ``features``, standardised by ``mean`` and ``std``."""
    return ((features - mean) / std) @ weights


def finite_reviews(reviews: np.ndarray) -> np.ndarray:
    """Reviewer scores with a candidate too long to review (``-inf``) at ``UNREVIEWED``."""
    reviews = np.asarray(reviews, dtype=np.float64)
    return np.where(np.isfinite(reviews), reviews, UNREVIEWED)


def review_rows(features: np.ndarray, reviews: np.ndarray) -> np.ndarray:
    """The review stage's input: the first stage's ``features`` with each candidate's reviewer
    score (``REVIEWER``, ``finite_reviews``) as the last column."""
    return np.hstack([features, finite_reviews(reviews).reshape(len(features), 1)])


def best_finished(proposals: Sequence[Proposal], scores: np.ndarray, top: int) -> list[int]:
    """Positions of the ``top`` best-scored candidates, finished ones first (as they are shown)."""
    order = sorted(range(len(proposals)), key=lambda i: (proposals[i].finish_reason != "eos", -scores[i]))
    return order[:top]


@dataclass(frozen=True)
class Review:
    """The review stage: a linear model over the first stage's features and the reviewer score,
    applied to the first stage's ``top`` best finished candidates."""

    weights: np.ndarray  # (len(names) + 1,) over standardised features
    mean: np.ndarray
    std: np.ndarray
    top: int

    def chosen(self, proposals: Sequence[Proposal], scores: np.ndarray) -> list[int]:
        """Positions of the candidates it re-ranks, given the first stage's ``scores``."""
        return best_finished(proposals, scores, self.top)

    def apply(self, features: np.ndarray, scores: np.ndarray, chosen: Sequence[int], reviews: np.ndarray) -> np.ndarray:
        """``scores`` with the ``chosen`` candidates re-scored by this stage, given their reviewer scores."""
        if not chosen:
            return scores
        rows = review_rows(features[list(chosen)], reviews)
        return reviewed_scores(scores, chosen, linear_scores(rows, self.weights, self.mean, self.std))


def reviewed_scores(first: np.ndarray, chosen: Sequence[int], second: np.ndarray) -> np.ndarray:
    """A pool's first-stage scores with the ``chosen`` ones replaced by their review-stage scores
    ``second``; the others keep their order and spread (the agreement and the cover read it) and
    come after them."""
    out = np.asarray(first, dtype=np.float64).copy()
    picked = set(chosen)  # not np.setdiff1d: its np.unique imports numpy.ma (~8 ms of a cold start)
    rest = np.array([i for i in range(len(out)) if i not in picked], dtype=np.int64)
    if len(rest) and len(chosen):
        out[rest] += second.min() - REST_GAP - out[rest].max()
    out[list(chosen)] = second
    return out


@dataclass(frozen=True)
class Reranker:
    lexicon: np.ndarray  # (2**bits,) float32
    weights: np.ndarray  # (len(names),) over standardised features
    mean: np.ndarray
    std: np.ndarray
    names: tuple[str, ...] = FEATURES  # one of FEATURE_SETS
    review: Review | None = None
    # The structure model's templates, written out by the model, that joined the pools it was
    # fitted on (``DecodeConfig.structure_beams``): the answer path proposes them as it was fitted.
    structure_beams: int = 0
    # The score below which a first answer is marked unsure (``Candidate.sure``), found on its
    # tuning pools by ``train --stage rerank`` (``trainer.rerank.unsure_threshold``); None: not
    # found (an older file), and ``DecodeConfig``'s default stands.
    unsure_below: float | None = None
    # ``program_table`` of its model's index, where it ranks with the ``PROGRAMS`` columns.
    programs: Mapping[str, float] | None = None

    @property
    def bits(self) -> int:
        return lexicon_bits(self.lexicon)

    @property
    def wants_structure(self) -> bool:
        """Whether it ranks with the structure model's scores (``rescore``'s ``structure``)."""
        return STRUCTURE in self.names

    @property
    def wants_sources(self) -> bool:
        """Whether it ranks with the ``SOURCE_COLUMNS`` (``Proposal.origins``)."""
        return any(name in self.names for name in SOURCE_COLUMNS)

    @property
    def wants_short(self) -> bool:
        """Whether it has every column again for short requests (``SHORT_PREFIX``)."""
        return any(name.startswith(SHORT_PREFIX) for name in self.names)

    def features(self, request: str, proposals: Sequence[Proposal], structure: np.ndarray | None = None) -> np.ndarray:
        """(len(proposals), len(names)); ``structure``: each proposal's template log-probability,
        needed when the reranker wants it."""
        wanted = structure if self.wants_structure else None
        return candidate_features(
            request,
            proposals,
            self.lexicon,
            wanted,
            match=MATCH in self.names,
            short=self.wants_short,
            programs=self.programs if PROGRAM_NAMED in self.names else None,
            sources=self.wants_sources,
            excess=EXCESS in self.names,
        )

    def rescore(
        self,
        request: str,
        proposals: Sequence[Proposal],
        structure: np.ndarray | None = None,
        review: ReviewFn | None = None,
    ) -> list[Proposal]:
        """The proposals with the linear model's score; with a review stage, ``review`` scores the
        candidates it re-ranks (``REVIEWER``; None: the first stage's scores stand)."""
        if not proposals:
            return []
        if self.wants_structure and structure is None:
            raise ModelError("this reranker ranks with a structure model's scores, and none were given")
        features = self.features(request, proposals, structure)
        scores = linear_scores(features, self.weights, self.mean, self.std)
        if self.review is not None and review is not None:
            chosen = self.review.chosen(proposals, scores)
            scores = self.review.apply(features, scores, chosen, review(chosen))
        return [replace(p, score=float(s)) for p, s in zip(proposals, scores, strict=True)]

    def save(self, path: Path) -> Path:
        """Write atomically; the lexicon as int8 with one scale (a quarter of float32's size)."""
        from safetensors.numpy import save

        from bash_ai.io import atomic_write_bytes

        scale = float(np.abs(self.lexicon).max()) / 127 or 1.0
        arrays: dict[str, np.ndarray] = {
            "lexicon": np.round(self.lexicon / scale).astype(np.int8),
            "lexicon_scale": np.array([scale], dtype=np.float32),
            "weights": self.weights.astype(np.float32),
            "mean": self.mean.astype(np.float32),
            "std": self.std.astype(np.float32),
        }
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "features": ",".join(self.names)}
        if self.review is not None:
            arrays.update(
                review_weights=self.review.weights.astype(np.float32),
                review_mean=self.review.mean.astype(np.float32),
                review_std=self.review.std.astype(np.float32),
            )
            meta.update(format_version=REVIEW_FORMAT_VERSION, review_top=str(self.review.top))
        if self.structure_beams:
            meta["structure_beams"] = str(self.structure_beams)
        if self.unsure_below is not None:
            meta["unsure_below"] = repr(float(self.unsure_below))
        if self.programs is not None:
            meta["programs"] = json.dumps(dict(self.programs), separators=(",", ":"), sort_keys=True)
        atomic_write_bytes(Path(path), save(arrays, metadata=meta))
        return Path(path)

    def order(self, request: str, neighbors: Sequence[Neighbor], weight: float) -> list[Neighbor]:
        """``neighbors`` re-sorted by their BM25 score relative to the best one's plus ``weight`` x
        the lexicon's score of their command for ``request`` (ties keep BM25's order)."""
        from bash_ai.nlc2cmd import utility_flags

        if not neighbors:
            return []
        best = max(max(n.score for n in neighbors), 1e-6)
        words = request_words(request)
        bits = lexicon_bits(self.lexicon)

        def key(n: Neighbor) -> float:
            return n.score / best + weight * command_score(self.lexicon, words, utility_flags(n.command), bits)

        return sorted(neighbors, key=key, reverse=True)

    @classmethod
    def load(cls, path: Path) -> Reranker:
        """Open a saved reranker; a corrupt or foreign file raises ``ModelError`` naming it."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as handle:
                meta = dict(handle.metadata() or {})
                if meta.get("format") != FORMAT:
                    raise ValueError("not a bash-ai reranker")
                names = next((f for f in FEATURE_SETS if meta.get("features") == ",".join(f)), None)
                reviewed = meta.get("format_version") == REVIEW_FORMAT_VERSION
                if meta.get("format_version") not in (FORMAT_VERSION, REVIEW_FORMAT_VERSION) or names is None:
                    raise ValueError("made for other features than this bash-ai computes")
                arrays = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
            review = _stored_review(arrays, meta, len(names)) if reviewed else None
            size = arrays["lexicon"].shape[0]
            if arrays["lexicon"].ndim != 1 or size < 2 or size & (size - 1):
                raise ValueError("the lexicon's size is not a power of two")
            weights, mean, std = _stored_stage(arrays, "", len(names))
            lexicon = arrays["lexicon"].astype(np.float32) * float(arrays["lexicon_scale"][0])
            beams = meta.get("structure_beams", "0")
            if not beams.isdigit() or int(beams) > 16 or (int(beams) and STRUCTURE not in names):
                raise ValueError(f"structure_beams {beams!r} is not a count of at most 16 with a structure model")
            unsure = _stored_threshold(meta.get("unsure_below"))
            programs = _stored_programs(meta.get("programs"), PROGRAM_NAMED in names)
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own errors
            raise ModelError(f"{path}: unreadable reranker ({exc})") from None
        return cls(lexicon, weights, mean, std, names, review, int(beams), unsure, programs)


def _stored_programs(text: str | None, wanted: bool) -> dict[str, float] | None:
    """A file's ``program_table`` (None where its features have no ``PROGRAMS``); ``ValueError`` for
    one missing where they have, or not a mapping of names to shares in [0, 1]."""
    if not wanted:
        return None
    table = json.loads(text) if text is not None else None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and 0 <= v <= 1 for k, v in table.items()
    ):
        raise ValueError("its program table is missing or malformed")
    return {k: float(v) for k, v in table.items()}


def _stored_threshold(text: str | None) -> float | None:
    """A file's ``unsure_below`` (None when it has none); ``ValueError`` for one that is not a finite number."""
    if text is None:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"unsure_below {text!r} is not a finite number")
    return value


def _stored_stage(arrays: dict[str, np.ndarray], prefix: str, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A linear stage's weights, mean and std (named ``prefix`` + name) of a loaded file, as
    float64; ``ValueError`` for a missing or malformed one."""
    stage = []
    for name in (prefix + "weights", prefix + "mean", prefix + "std"):
        if name not in arrays or arrays[name].shape != (width,):
            raise ValueError(f"{name} is missing or has the wrong shape")
        stage.append(arrays[name].astype(np.float64))
    weights, mean, std = stage
    if not (np.all(np.isfinite(std)) and np.all(std > 0)):
        raise ValueError(f"{prefix}std must be positive")
    return weights, mean, std


def _stored_review(arrays: dict[str, np.ndarray], meta: dict[str, str], width: int) -> Review:
    """The review stage of a loaded file; ``ValueError`` for a malformed one."""
    weights, mean, std = _stored_stage(arrays, "review_", width + 1)
    top = int(meta.get("review_top", "0")) if meta.get("review_top", "").isdigit() else 0
    if top < 1:
        raise ValueError("review_top must be a positive count")
    return Review(weights, mean, std, top)


def load_reranker(model_dir: Path) -> Reranker | None:
    """The model's reranker, or None when it has none (it ranks with the hand-set weights)."""
    path = Path(model_dir) / RERANKER_FILE
    return Reranker.load(path) if path.is_file() else None


def candidate_features(
    request: str,
    proposals: Sequence[Proposal],
    lexicon: np.ndarray,
    structure: np.ndarray | None = None,
    *,
    match: bool = False,
    short: bool = False,
    programs: Mapping[str, float] | None = None,
    sources: bool = False,
    excess: bool = False,
) -> np.ndarray:
    """(len(proposals), len(FEATURES)) features of a pool, in ``FEATURES`` order; one more column
    when ``structure`` (each proposal's template log-probability) is given, and after it ``MATCH``
    (each proposal's ``match``) when ``match``, then the two ``PROGRAMS`` columns given a
    ``program_table``, then with ``sources`` the ``SOURCE_COLUMNS``, then with ``excess`` the
    ``EXCESS`` column (each proposal's ``excess``, at most ``MAX_EXCESS``); with ``short`` all of
    them again, times ``short_request``."""
    from bash_ai.engine.proposal import agree, normalised
    from bash_ai.nlc2cmd import utility_flags

    prior = [
        replace(
            p,
            score=normalised(p.logprob, p.n_tokens, PRIOR_ALPHA)
            + PRIOR_RELEVANCE * p.retrieval
            + (PRIOR_BONUS if p.source == "retrieval" else 0.0),
        )
        for p in proposals
    ]
    parsed = {p.text: utility_flags(p.text) for p in proposals}  # once, for the agreement and the lexicon
    agreed = agree(prior, PRIOR_CONSENSUS, parsed) if len(prior) > 1 else prior
    words = request_words(request)
    wanted = request_arguments(request)
    bits = lexicon_bits(lexicon)
    rows = []
    for p, before, after in zip(proposals, prior, agreed, strict=True):
        mine = parsed[p.text]
        lex = command_score(lexicon, words, mine, bits)
        rows.append(
            [
                normalised(p.logprob, p.n_tokens, PRIOR_ALPHA),
                p.logprob / (p.n_tokens + 1),
                float(p.source == "retrieval"),
                p.retrieval,
                float(p.source == "beam" and p.retrieval > 0),
                after.score - before.score,
                before.score,
                lex,
                named_share(wanted, p.text),
                min(invented(request, p.text), MAX_INVENTED),
            ]
        )
    columns = [np.array(rows, dtype=np.float64).reshape(len(proposals), len(FEATURES))]
    if structure is not None:
        columns.append(np.asarray(structure, dtype=np.float64).reshape(len(proposals), 1))
    if match:
        columns.append(np.array([p.match for p in proposals], dtype=np.float64).reshape(len(proposals), 1))
    if programs is not None:
        named = [program_columns(words, parsed[p.text], programs) for p in proposals]
        columns.append(np.array(named, dtype=np.float64).reshape(len(proposals), len(PROGRAMS)))
    if sources:
        origin = [[float(source in p.origins) for source in SOURCE_COLUMNS.values()] for p in proposals]
        columns.append(np.array(origin, dtype=np.float64).reshape(len(proposals), len(SOURCE_COLUMNS)))
    if excess:
        extra = [min(p.excess, MAX_EXCESS) for p in proposals]
        columns.append(np.array(extra, dtype=np.float64).reshape(len(proposals), 1))
    out = columns[0] if len(columns) == 1 else np.hstack(columns)
    return np.hstack([out, out * short_request(request)]) if short else out


def short_request(request: str) -> float:
    """1.0 for a request of at most ``SHORT_WORDS`` words (``bash_ai.prompt.is_short``), else 0.0
    (the ``SHORT_PREFIX`` columns)."""
    return float(is_short(request))
