"""``bash-ai train --stage rerank``: train a model's reranker (``bash_ai.engine.rerank``).

1. The lexicon, from the model's retrieval index alone (its training pairs): every pair's request
   against its own command and the commands of its 20 nearest other requests (BM25; pairs with
   the same command left out), each command's target its NLC2CMD score against the pair's own.
   A listwise loss (softmax of the scores against softmax(target / TAU)), AdaGrad on the hashed
   slots, a few passes.
2. The linear model, on the model's own proposals for the tuning split (nl2bash-dev; the test
   split is never used), the same listwise loss, after a 5-fold cross-validation that reports
   what the reranker gains over the hand-set ranking on requests it was not fitted on. Its target
   is the NLC2CMD score plus ``argument_weight`` x the F1 of the candidate's arguments against the
   reference's: NLC2CMD ignores arguments, but a user runs the command with them (measured on
   nl2bash-dev, 5-fold, against the same fit without the argument features and term: weight 0.25
   argument F1 at 1 0.62 -> 0.69, exact match 0.012 -> 0.022, NLC2CMD top-5 / top-1 0.313 / 0.008
   -> 0.307 / 0.010; weight 0.5 argument F1 0.71, but 0.305 / 0.005, and on nl2bash-test top-1
   fell 0.017).

3. With ``review_top`` (``--review-top``, default 3), a review stage (``rerank.Review``): a second
   linear model over the same features plus the reviewer score (log p(request | candidate) per
   request token, by the model's own explain direction), fitted the same way on every candidate,
   that re-ranks the first stage's few best at answer time. The cross-validated figures are those
   of the two stages together, each fitted on the other folds (measured on nl2bash-dev, 5-fold:
   top-1 0.032 -> 0.052 with the 3 best reviewed, 0.046 with every candidate reviewed, at six
   times the cost).

With a structure model (``--structure``, a model trained with ``--targets template``; or the one
the model directory already has), the linear model has one more feature, the log-probability of
each candidate's template (``bash_ai.engine.structure``), and the structure model is written into
the model directory as int8, the form the fit scored with. Pools proposed without reviewer
scores have them computed anew (the same weights wrote them).

The model directory is written anew with the reranker beside the weights, index and tokenizer.
The proposals the fit was made on are kept with the lexicon they were proposed with
(``pools.json.gz`` in the run directory): ``--pools`` fits again on them in seconds instead of
training the lexicon and proposing (~13 minutes), to measure a change to the features or the fit
alone. They are taken only for the same weights and index (their SHA-256 are recorded), suite and
lexicon size; the features are computed anew by today's code. A structure model only scores the
proposals, so pools scored by another one (named by the SHA-256 of its int8 tensors, whether
``--structure`` gave it or the model directory has it) have their templates scored anew (a few
minutes): a new structure model is measured on the same candidates.

Pools of several tuning suites (``--pools A --pools B``) are fitted on together, each pool tagged
with its suite; ``--suite-weight SUITE=W`` counts a suite's pools W times in every fit (the same
fit as on the pools repeated), and the figures are given per suite too. everyday-tune (more
everyday requests, written apart from everyday-dev and -test) exists for this: NL2Bash's 779 dev
requests, whose retrieved commands are never the reference, would otherwise decide alone how much
a retrieved how-to command counts, and everyday-dev stays held out to decide on.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bash_ai.engine.arguments import argument_f1
from bash_ai.engine.rerank import (
    FEATURES,
    RERANKER_FILE,
    REVIEWER,
    Reranker,
    Review,
    best_finished,
    candidate_features,
    command_parts,
    feature_names,
    finite_reviews,
    hashed_ids,
    linear_scores,
    program_table,
    request_words,
    review_rows,
    reviewed_scores,
)
from bash_ai.nlc2cmd import parsed_score, parsed_structure, utility_flags

POOLS_FILE = "pools.json.gz"
POOLS_FORMAT = "bash-ai-rerank-pools"
TAU = 0.1  # temperature of the target distribution (NLC2CMD scores lie in [-1, 1])


@dataclass(frozen=True)
class RerankSpec:
    bits: int = 19  # lexicon slots: 2**19 (512 KiB as int8)
    neighbours: int = 20
    epochs: int = 10
    lexicon_lr: float = 0.05
    l2: float = 1e-2  # of the linear model
    iters: int = 1000
    folds: int = 5
    seed: int = 0
    argument_weight: float = 0.25  # of the argument F1 in the linear model's target
    review_top: int = 3  # the first stage's best candidates the review stage re-ranks (0: no review stage)
    structure_beams: int = 0  # the structure model's templates written out into each pool (``DecodeConfig``)
    # The ``MATCH`` column (how nearly a training request asking for a candidate says the request).
    # Measured, not kept: 5-fold on nl2bash-dev 0.339 / 0.049 with it, 0.339 / 0.045 without; the
    # fit gives it ~0.05 (docs/benchmarks.md, "bash-ai's own how-to pairs").
    match: bool = False
    # Each tuning suite's weight in the fit (a pool of that suite counts this many times; 1 when not
    # named), so that a small suite of everyday requests is not drowned by NL2Bash's 779.
    suite_weights: tuple[tuple[str, float], ...] = ()
    # Every column again for short requests (``bash_ai.engine.rerank.SHORT_PREFIX``).
    short: bool = False
    # The ``PROGRAMS`` columns: whether a candidate runs a program the request names by its name
    # (``bash_ai.engine.rerank.program_table`` of the model's index).
    programs: bool = False
    # The ``SOURCE_COLUMNS``: whether a how-to or a tldr pair asked for a candidate (pools proposed
    # since ``Proposal.origins`` was recorded).
    sources: bool = False
    # The ``EXCESS`` column: how many words a training request asking for a candidate says that the
    # request does not (``Proposal.excess``; computed anew for pools proposed before it was recorded).
    excess: bool = False

    def weight_of(self, suite: str) -> float:
        return dict(self.suite_weights).get(suite, 1.0)


# The suites a reranker may be fitted on: never a test suite.
TUNING_SUITES = ("nl2bash-dev", "everyday-dev", "everyday-tune", "everyday-dev2")


def parse_suite_weights(items: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """``SUITE=W`` items (``--suite-weight``) as ``RerankSpec.suite_weights``; a clear error for a
    suite that is not a tuning suite, a weight that is not a positive number, or a suite named twice."""
    from bash_ai.errors import UsageError

    out: dict[str, float] = {}
    for item in items:
        suite, sep, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not sep or not math.isfinite(weight) or weight <= 0:
            raise UsageError(f"--suite-weight {item!r}: give SUITE=W with W a positive number")
        if suite not in TUNING_SUITES:
            raise UsageError(f"--suite-weight {item!r}: {suite!r} is not a tuning suite ({', '.join(TUNING_SUITES)})")
        if suite in out:
            raise UsageError(f"--suite-weight: {suite} named twice")
        out[suite] = weight
    return tuple(out.items())


# One training group: the candidates' lexicon slots (or features) and their NLC2CMD targets.
Group = tuple[list[np.ndarray], np.ndarray]


def lexicon_groups(index: Any, spec: RerankSpec, limit: int | None = None) -> list[Group]:
    """One group per training pair: its own command and its neighbours' distinct structures."""
    groups: list[Group] = []
    rows = len(index) if limit is None else min(limit, len(index))
    for row in range(rows):
        request, command = index.requests[row], index.commands[row]
        reference = utility_flags(command)
        if not reference:
            continue
        others = index.search(request, spec.neighbours, exclude_row=row, exclude_command=command)
        words = request_words(request)
        ids, targets, seen = [], [], set()
        for text in [command, *(n.command for n in others)]:
            parsed = utility_flags(text)
            key = parsed_structure(parsed)
            if not parsed or key in seen:
                continue
            seen.add(key)
            ids.append(hashed_ids(words, command_parts(parsed), spec.bits))
            targets.append(parsed_score(parsed, reference))
        if len(ids) > 1 and max(targets) > min(targets):
            groups.append((ids, np.array(targets)))
    return groups


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def train_lexicon(
    groups: list[Group], spec: RerankSpec, report: Callable[[str], None] | None = None, batch: int = 256
) -> np.ndarray:
    """Slot weights (float32, 2**bits) by AdaGrad on the listwise loss; ``report`` gets each pass's loss."""
    rng = np.random.default_rng(spec.seed)
    weights = np.zeros(1 << spec.bits, dtype=np.float64)
    squares = np.full_like(weights, 1e-8)
    for epoch in range(spec.epochs):
        order = rng.permutation(len(groups))
        loss = 0.0
        for start in range(0, len(order), batch):
            slots, grads = [], []
            for g in order[start : start + batch]:
                ids, targets = groups[g]
                norms = np.array([max(1.0, np.sqrt(len(x))) for x in ids])
                p = _softmax(np.array([weights[x].sum() for x in ids]) / norms)
                t = _softmax(targets / TAU)
                loss -= float(t @ np.log(p + 1e-12))
                for x, gx in zip(ids, (p - t) / norms, strict=True):
                    slots.append(x)
                    grads.append(np.full(len(x), gx))
            index = np.concatenate(slots)
            grad = np.bincount(index, weights=np.concatenate(grads), minlength=len(weights)) / batch
            touched = np.unique(index)
            squares[touched] += grad[touched] ** 2
            weights[touched] -= spec.lexicon_lr * grad[touched] / np.sqrt(squares[touched])
        if report is not None:
            report(f"lexicon pass {epoch + 1}/{spec.epochs}: loss {loss / max(1, len(groups)):.4f}")
    return weights.astype(np.float32)


Linear = tuple[np.ndarray, np.ndarray, np.ndarray]  # weights, mean, std of the features


def fit_linear(
    groups: Sequence[tuple[np.ndarray, np.ndarray]], spec: RerankSpec, weights: Sequence[float] | None = None
) -> Linear:
    """Weights over standardised features by Adam on the listwise loss, with the mean and std;
    ``weights``: each group's weight (the fit is the one on the groups repeated that many times)."""
    weights = [1.0] * len(groups) if weights is None else list(weights)
    width = next((f.shape[1] for f, _ in groups if len(f)), len(FEATURES))  # FEATURES, or a probe's own columns
    kept = [(f, g) for (f, _), g in zip(groups, weights, strict=True) if len(f)]
    rows = np.concatenate([f for f, _ in kept]) if kept else np.zeros((0, width))
    row_weights = np.concatenate([np.full(len(f), g) for f, g in kept]) if kept else np.zeros(0)
    mean = np.average(rows, axis=0, weights=row_weights) if len(rows) else np.zeros(width)
    std = (
        np.sqrt(np.average((rows - mean) ** 2, axis=0, weights=row_weights)) if len(rows) else np.zeros(width)
    ) + 1e-6
    usable = [
        ((f - mean) / std, _softmax(y / TAU), g)
        for (f, y), g in zip(groups, weights, strict=True)
        if len(f) > 1 and y.max() > y.min() and g > 0
    ]
    total = sum(g for _, _, g in usable)
    w = np.zeros(width)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for it in range(1, spec.iters + 1):
        grad = spec.l2 * w
        for x, t, g in usable:
            grad += g * (x.T @ (_softmax(x @ w) - t)) / total
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.1 * (m / (1 - 0.9**it)) / (np.sqrt(v / (1 - 0.999**it)) + 1e-8)
    return w, mean, std


@dataclass
class Pool:
    """One tuning request: its reference and its proposals (ranked by the hand-set weights)."""

    request: str
    reference: str
    proposals: list[Any]
    structure: np.ndarray | None = None  # each proposal's template log-probability, with a structure model
    review: np.ndarray | None = None  # each proposal's reviewer score (``Engine.review_logprobs``)
    suite: str = ""  # the tuning suite the request is from


def collect(
    engine: Any,
    examples: Sequence[Any],
    report: Callable[[str], None] | None = None,
    reviewed: bool = False,
    structure_beams: int = 0,
    suite: str = "",
) -> list[Pool]:
    """The engine's proposals for each example, without any reranker, their templates'
    log-probabilities when the engine has a structure model, and with ``reviewed`` their reviewer
    scores; ``structure_beams``: the structure model's templates written out into each pool."""
    from bash_ai.engine.propose import DecodeConfig, propose

    config = DecodeConfig(rerank=False, structure_beams=structure_beams)
    scored = engine.structure is not None
    pools = []
    for i, ex in enumerate(examples, 1):
        proposals = propose(engine, ex.request, config)
        texts = [p.text for p in proposals]
        structure = engine.structure_logprobs(ex.request, texts) if scored else None
        review = engine.review_logprobs(ex.request, texts) if reviewed else None
        pools.append(Pool(ex.request, ex.reference, proposals, structure, review, suite))
        if report is not None and (i % 100 == 0 or i == len(examples)):
            report(f"proposed {i}/{len(examples)}")
    return pools


def rescore_structure(engine: Any, pools: Sequence[Pool], report: Callable[[str], None] | None = None) -> list[Pool]:
    """``pools`` with their templates' log-probabilities by ``engine``'s structure model (none:
    none), for pools proposed beside another one."""
    scored = engine.structure is not None
    return _each_pool(
        pools,
        lambda pool: replace(pool, structure=engine.structure_logprobs(pool.request, _texts(pool)) if scored else None),
        "structure scored",
        report,
    )


def rescore_review(engine: Any, pools: Sequence[Pool], report: Callable[[str], None] | None = None) -> list[Pool]:
    """``pools`` with their candidates' reviewer scores by ``engine`` (~0.2 s a pool)."""
    return _each_pool(
        pools, lambda pool: replace(pool, review=engine.review_logprobs(pool.request, _texts(pool))), "reviewed", report
    )


def lexicon_only(lexicon: np.ndarray) -> Reranker:
    """A reranker with ``lexicon`` and no weights: ``Engine.neighbors`` orders a short request's
    neighbours with it, as pools are proposed (and found again) before any linear model is fitted."""
    d = len(FEATURES)
    return Reranker(lexicon, np.zeros(d), np.zeros(d), np.ones(d))


def rescore_excess(
    engine: Any, pools: Sequence[Pool], lexicon: np.ndarray, report: Callable[[str], None] | None = None
) -> list[Pool]:
    """``pools`` with each candidate's ``excess`` computed anew from ``engine``'s index (pools read
    with ``--pools``, some proposed before ``Proposal.excess`` was recorded): the neighbours are found again as they were
    (BM25, ordered with the pools' ``lexicon``) and pooled as ``propose`` pools them; a candidate
    today's code no longer adapts a neighbour into keeps 0."""
    from bash_ai.engine.propose import DecodeConfig, pool_neighbors, pooled_commands

    config = DecodeConfig()
    before = engine.reranker
    engine.set_reranker(lexicon_only(lexicon))

    def step(pool: Pool) -> Pool:
        request, found = pool_neighbors(engine, pool.request, config)
        excess = pooled_commands(request, found[: config.pool]).excess
        return replace(pool, proposals=[replace(q, excess=excess.get(q.text, 0)) for q in pool.proposals])

    try:
        return _each_pool(pools, step, "excess words counted", report)
    finally:
        engine.set_reranker(before)


def _texts(pool: Pool) -> list[str]:
    return [p.text for p in pool.proposals]


def _each_pool(
    pools: Sequence[Pool], step: Callable[[Pool], Pool], done: str, report: Callable[[str], None] | None
) -> list[Pool]:
    """``step`` of each pool; ``report`` gets "``done`` i/n" every 100 pools and at the end."""
    out = []
    for i, pool in enumerate(pools, 1):
        out.append(step(pool))
        if report is not None and (i % 100 == 0 or i == len(pools)):
            report(f"{done} {i}/{len(pools)}")
    return out


def save_pools(path: Path, pools: Sequence[Pool], lexicon: np.ndarray, key: dict[str, Any]) -> None:
    """``pools``, the lexicon they were proposed with and ``key`` (what else they were proposed
    with) as gzipped JSON, atomically."""
    from bash_ai.io import atomic_write_bytes

    doc = {
        "format": POOLS_FORMAT,
        "key": key,
        "lexicon": base64.b64encode(np.asarray(lexicon, dtype="<f4").tobytes()).decode("ascii"),
        "pools": [
            {
                "request": p.request,
                "reference": p.reference,
                "proposals": [asdict(q) for q in p.proposals],
                "structure": None if p.structure is None else p.structure.tolist(),
                "review": None if p.review is None else finite_reviews(p.review).tolist(),
                "suite": p.suite,
            }
            for p in pools
        ],
    }
    atomic_write_bytes(Path(path), gzip.compress(json.dumps(doc).encode("utf-8"), mtime=0))


def load_pools(path: Path, key: dict[str, Any]) -> tuple[list[Pool], np.ndarray, dict[str, Any]]:
    """The pools ``save_pools`` wrote, their lexicon and everything they were proposed with, if
    that agrees with ``key``; else one clear error."""
    from bash_ai.engine.proposal import Proposal
    from bash_ai.errors import UsageError

    try:
        doc = json.loads(gzip.decompress(Path(path).read_bytes()))
        if doc.get("format") != POOLS_FORMAT:
            raise ValueError("not a rerank pools file")
        stale = sorted(k for k in key if doc["key"].get(k) != key[k])
        if stale:
            raise UsageError(f"{path}: proposed with another {', '.join(stale)}; fit without --pools")
        lexicon = np.frombuffer(base64.b64decode(doc["lexicon"], validate=True), dtype="<f4").astype(np.float32)
        if len(lexicon) != 1 << int(key["bits"]):
            raise ValueError(f"a lexicon of {len(lexicon)} slots")
        pools = [
            Pool(
                p["request"],
                p["reference"],
                [Proposal(**{**q, "origins": tuple(q.get("origins", ()))}) for q in p["proposals"]],
                None if p["structure"] is None else np.array(p["structure"], dtype=np.float64),
                None if p.get("review") is None else np.array(p["review"], dtype=np.float64),
                p.get("suite") or str(doc["key"].get("suite", "")),
            )
            for p in doc["pools"]
        ]
        # A file written before pools kept their suite has none: its pools take the file's (joined with
        # ``+`` for a fit on several suites, so weighed as 1).
        parts = str(doc["key"].get("suite", "")).split("+")
        if any(p.get("suite") and p["suite"] not in parts for p in doc["pools"]):
            raise ValueError(f"a pool of a suite the file is not of ({doc['key'].get('suite')})")
        return pools, lexicon, dict(doc["key"])
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: unreadable rerank pools ({exc})") from None


def load_all_pools(paths: Sequence[Path], key: dict[str, Any]) -> tuple[list[Pool], np.ndarray, dict[str, Any]]:
    """The pools of several ``save_pools`` files, one per tuning suite, proposed with the same
    model, index and lexicon (``key`` without its suite); the record's ``suite`` joins theirs
    with ``+``."""
    from bash_ai.errors import UsageError

    pools: list[Pool] = []
    lexicon: np.ndarray | None = None
    suites: list[str] = []
    recorded: dict[str, Any] = {}
    for path in paths:
        mine, words, recorded = load_pools(path, {k: v for k, v in key.items() if k != "suite"})
        parts = str(recorded.get("suite", "")).split("+")
        if not all(part in TUNING_SUITES for part in parts) or set(parts) & set(suites):
            raise UsageError(f"{path}: pools of {recorded.get('suite')}; each tuning suite once, never a test suite")
        if lexicon is not None and not np.array_equal(lexicon, words):
            raise UsageError(f"{path}: proposed with another lexicon than {paths[0]}; propose them in one run")
        pools.extend(mine)
        lexicon = words
        suites.extend(parts)
    assert lexicon is not None
    return pools, lexicon, {**recorded, "suite": "+".join(suites)}


def top_k(pool: Pool, scores: Sequence[float], k: int = 5, cover_temperature: float = 0.0) -> list[str]:
    """The answer path's top ``k`` (without its syntax check): cut hypotheses last, cleaned, one
    per structure, then the answers after the first chosen to cover the pool when
    ``cover_temperature`` is set (as with a reranker)."""
    from bash_ai.answer import cover_texts, distinct_commands

    ranked = sorted(
        (replace(p, score=float(s)) for p, s in zip(pool.proposals, scores, strict=True)),
        key=lambda p: (p.finish_reason != "eos", -p.score),
    )
    shaped = distinct_commands(ranked, request=pool.request)
    texts = list(shaped)
    if cover_temperature > 0:
        texts = cover_texts(shaped, texts, cover_temperature)
    return texts[:k]


def measure(pools: Sequence[Pool], scores: Sequence[Any], cover_temperature: float = 0.0) -> tuple[float, float, float]:
    """Mean NLC2CMD top-5 and top-1, and the argument F1 of the first, of pools ranked by ``scores``."""
    from bash_ai.nlc2cmd import nlc2cmd_topk

    top5 = top1 = args1 = 0.0
    for pool, s in zip(pools, scores, strict=True):
        ranked = top_k(pool, s, cover_temperature=cover_temperature) or [""]
        top5 += nlc2cmd_topk(ranked, pool.reference)
        top1 += nlc2cmd_topk(ranked[:1], pool.reference)
        args1 += argument_f1(ranked[0], pool.reference)
    n = max(1, len(pools))
    return top5 / n, top1 / n, args1 / n


# A first answer is marked unsure below the highest score under which the tuning pools' first answers
# have the right program (NLC2CMD top-1 > 0) at most this often, counting only thresholds with at
# least UNSURE_MIN_SHARE of the pools below them (a few answers say little about a rate).
UNSURE_RIGHT_SHARE = 0.2
UNSURE_MIN_SHARE = 0.05
UNSURE_GRID = tuple(float(t) for t in np.round(np.arange(-3.0, 3.01, 0.25), 2))


def unsure_threshold(pools: Sequence[Pool], scores: Sequence[Any]) -> float | None:
    """``Reranker.unsure_below`` from held-out ``scores`` of the tuning ``pools``: each pool's first
    answer scored as the answer path scores it (the agreement term ``DecodeConfig.rerank_consensus``
    added), then the highest threshold of ``UNSURE_GRID`` under which at least ``UNSURE_MIN_SHARE`` of
    them fall and have the right program at most ``UNSURE_RIGHT_SHARE`` of the time (None: no such
    threshold)."""
    from bash_ai.engine.proposal import agree
    from bash_ai.engine.propose import RERANK_CONSENSUS_TEMPERATURE, DecodeConfig
    from bash_ai.nlc2cmd import nlc2cmd_score

    consensus = DecodeConfig().rerank_consensus
    firsts: list[tuple[float, bool]] = []
    for pool, s in zip(pools, scores, strict=True):
        ranked = [replace(p, score=float(x)) for p, x in zip(pool.proposals, s, strict=True)]
        if consensus > 0 and len(ranked) > 1:
            ranked = agree(ranked, consensus, temperature=RERANK_CONSENSUS_TEMPERATURE)
        ended = [p.score for p in ranked if p.finish_reason == "eos"]
        shown = top_k(pool, [p.score for p in ranked], k=1)
        if ended and shown:
            firsts.append((max(ended), nlc2cmd_score(shown[0], pool.reference) > 0))
    found = None
    for threshold in UNSURE_GRID:
        below = [right for score, right in firsts if score < threshold]
        if len(below) >= max(1, UNSURE_MIN_SHARE * len(firsts)) and sum(below) <= UNSURE_RIGHT_SHARE * len(below):
            found = threshold
    return found


def pool_targets(pools: Sequence[Pool], spec: RerankSpec) -> list[np.ndarray]:
    """What the linear model learns to rank by: each candidate's NLC2CMD score against the
    reference plus ``spec.argument_weight`` x the F1 of its arguments."""
    from bash_ai.nlc2cmd import nlc2cmd_score

    return [
        np.array(
            [
                nlc2cmd_score(q.text, p.reference) + spec.argument_weight * argument_f1(q.text, p.reference)
                for q in p.proposals
            ]
        )
        for p in pools
    ]


def cross_validated(
    feats: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    spec: RerankSpec,
    weights: Sequence[float] | None = None,
) -> tuple[list[np.ndarray], Linear]:
    """Each pool's scores by a fit on the other folds (``spec.folds``, shuffled by ``spec.seed``),
    and the fit on every pool; ``weights``: each pool's weight in the fits (``fit_linear``)."""
    order = np.random.default_rng(spec.seed).permutation(len(feats))
    folds = np.array_split(order, spec.folds)
    weights = [1.0] * len(feats) if weights is None else list(weights)
    held: dict[int, np.ndarray] = {}
    for k, fold in enumerate(folds):
        train = [i for j, other in enumerate(folds) if j != k for i in other]
        w, mean, std = fit_linear([(feats[i], targets[i]) for i in train], spec, [weights[i] for i in train])
        for i in fold:
            held[int(i)] = linear_scores(feats[i], w, mean, std) if len(feats[i]) else np.zeros(0)
    return [held[i] for i in range(len(feats))], fit_linear(list(zip(feats, targets, strict=True)), spec, weights)


def fit_on_pools(
    pools: Sequence[Pool], lexicon: np.ndarray, spec: RerankSpec, programs: Mapping[str, float] | None = None
) -> tuple[Reranker, dict[str, Any]]:
    """The fitted reranker and its cross-validated figures beside the hand-set ranking's; with
    ``spec.review_top`` (and reviewer scores in the pools) a review stage too, the figures then
    those of both stages, and the first stage's alone beside them. The reranker records
    ``spec.structure_beams``, the written-out templates its pools hold. Each pool weighs
    ``spec.weight_of`` its suite in every fit; pools of several suites get each suite's figures too
    (``figures["suites"]``). ``programs``: the model index's ``program_table``, which ``spec.programs``
    needs."""
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.errors import UsageError

    if spec.programs and programs is None:
        raise UsageError("the program columns need the program table of the model's index")
    if spec.sources and not any(q.origins for p in pools for q in p.proposals):
        raise UsageError("the source columns need pools that record where each candidate came from; propose them anew")
    table = programs if spec.programs else None
    feats = [
        candidate_features(
            p.request,
            p.proposals,
            lexicon,
            p.structure,
            match=spec.match,
            short=spec.short,
            programs=table,
            sources=spec.sources,
            excess=spec.excess,
        )
        for p in pools
    ]
    targets = pool_targets(pools, spec)
    weights = [spec.weight_of(p.suite) for p in pools]
    held, (w, mean, std) = cross_validated(feats, targets, spec, weights)
    hand = [[p.score for p in pool.proposals] for pool in pools]
    base5, base1, base_args = measure(pools, hand)
    # The reranked answers as the answer path shows them: after the first, covering the pool.
    cover = DecodeConfig().cover_temperature
    first5, first1, first_args = measure(pools, held, cover)
    figures: dict[str, Any] = {
        "requests": len(pools),
        "hand_top5": base5,
        "hand_top1": base1,
        "hand_args1": base_args,
        "cv_top5": first5,
        "cv_top1": first1,
        "cv_args1": first_args,
    }
    review = None
    if spec.review_top > 0 and pools and all(p.review is not None for p in pools):
        reviewed = [review_rows(f, p.review) for f, p in zip(feats, pools, strict=True)]  # type: ignore[arg-type]
        both, (rw, rmean, rstd) = review_stage(pools, held, reviewed, targets, spec, weights)
        figures.update(first_top5=first5, first_top1=first1, first_args1=first_args, review_top=spec.review_top)
        figures["cv_top5"], figures["cv_top1"], figures["cv_args1"] = measure(pools, both, cover)
        review = Review(rw, rmean, rstd, spec.review_top)
        held = both
    suites = sorted({p.suite for p in pools})
    if len(suites) > 1:
        per_suite: dict[str, dict[str, float]] = {}
        figures["suites"] = per_suite
        for suite in suites:
            rows = [i for i, p in enumerate(pools) if p.suite == suite]
            mine = [pools[i] for i in rows]
            hand5, hand1, _ = measure(mine, [hand[i] for i in rows])
            cv5, cv1, cv_args = measure(mine, [held[i] for i in rows], cover)
            per_suite[suite] = {
                "requests": len(rows),
                "weight": spec.weight_of(suite),
                "hand_top5": hand5,
                "hand_top1": hand1,
                "cv_top5": cv5,
                "cv_top1": cv1,
                "cv_args1": cv_args,
            }
    unsure = unsure_threshold(pools, held)
    if unsure is not None:
        figures["unsure_below"] = unsure
    names = feature_names(
        bool(pools) and pools[0].structure is not None, spec.match, spec.short, spec.programs, spec.sources, spec.excess
    )
    return Reranker(lexicon, w, mean, std, names, review, spec.structure_beams, unsure, table), figures


def review_stage(
    pools: Sequence[Pool],
    held_first: Sequence[np.ndarray],
    reviewed: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    spec: RerankSpec,
    weights: Sequence[float] | None = None,
) -> tuple[list[np.ndarray], Linear]:
    """Each pool's held-out scores of both stages, ranked as ``Review.apply`` ranks (the first
    stage's held-out ``held_first``, then the review stage over its ``spec.review_top`` best by a
    fit on the other folds of the ``reviewed`` features), and the review stage's fit on every pool
    (``weights``: each pool's, as ``cross_validated``)."""
    held_review, fit = cross_validated(reviewed, targets, spec, weights)
    both = [
        _two_stage(spec.review_top, pool, first, second)
        for pool, first, second in zip(pools, held_first, held_review, strict=True)
    ]
    return both, fit


def _two_stage(top: int, pool: Pool, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """A pool's scores as ``Review.apply`` ranks them, from each stage's own (held-out) scores."""
    chosen = best_finished(pool.proposals, first, top)
    return reviewed_scores(first, chosen, second[chosen])


def _weights_name_fitted_suites(spec: RerankSpec, suites: str) -> None:
    """A clear error for a ``--suite-weight`` of a suite whose pools are not in the fit (``suites``:
    the fit's, joined with ``+``): it would change nothing."""
    from bash_ai.errors import UsageError

    missing = [name for name, _ in spec.suite_weights if name not in suites.split("+")]
    if missing:
        raise UsageError(f"--suite-weight {', '.join(missing)}: no pools of it in this fit ({suites})")


def structure_examples(model_dir: Path) -> int:
    """The retrieved pairs a structure model trained with in its prompt: ``retrieval_k`` of the
    training run that wrote ``model_dir`` (``<run>/model`` or ``<run>/latest/model``), 0 when no
    run record is found."""
    for run in (model_dir.parent, model_dir.parent.parent):
        saved = run / "train_config.json"
        if saved.is_file():
            return int(json.loads(saved.read_text(encoding="utf-8")).get("retrieval_k", 0))
    return 0


def structure_key(path: Path, engine: Any) -> str:
    """What a pool's structure column depends on: the structure file's tensors and, when its prompt
    carries retrieved examples, how many."""
    from bash_ai.checkpoint import tensors_sha256

    examples = engine.structure.examples if engine.structure is not None else 0
    return tensors_sha256(path) + (f"+examples={examples}" if examples else "")


def train_reranker(
    model_dir: Path,
    dest: Path,
    suite: str = "nl2bash-dev",
    spec: RerankSpec | None = None,
    limit: int | None = None,
    report: Callable[[str], None] | None = None,
    structure: Path | None = None,
    pools_in: Sequence[Path] = (),
    pools_out: Path | None = None,
) -> dict[str, Any]:
    """Train ``model_dir``'s reranker and write the model with it to ``dest`` (atomically);
    ``structure``: a model directory trained with ``--targets template`` to rank with (default: the
    structure model ``model_dir`` has, if any). The proposals for ``suite`` (a tuning suite) are
    written to ``pools_out``, or read from ``pools_in`` (``save_pools``; one file per tuning suite,
    fitted on together) instead of proposed."""
    from bash_ai.checkpoint import load_weights, save_model_dir, stored_dtype
    from bash_ai.engine.structure import Structure, save_structure
    from bash_ai.errors import UsageError
    from bash_ai.io import sha256_file
    from bash_ai.model_files import INDEX_FILE, STRUCTURE_FILE, TOKENIZER_FILE, WEIGHTS_FILE
    from bash_ai.registry import load
    from bash_ai.tokenizer import load_tokenizer
    from trainer.data.suites import load_suite

    spec = spec or RerankSpec()
    if suite not in TUNING_SUITES:
        raise UsageError(f"the reranker is tuned on {' or '.join(TUNING_SUITES)}, never on {suite}")
    engine = load(str(model_dir))
    engine.set_reranker(None)
    if engine.index is None:
        raise UsageError(f"{model_dir} has no retrieval index: train it with --retrieval-k first")
    tokenizer_path = Path(model_dir) / TOKENIZER_FILE
    if structure is not None and sha256_file(Path(structure) / TOKENIZER_FILE) != sha256_file(tokenizer_path):
        raise UsageError(f"the structure model {structure} has another tokenizer than {model_dir}")
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{Path(dest).name}.", dir=Path(dest).parent) as scratch:
        extra = {INDEX_FILE: Path(model_dir) / INDEX_FILE, RERANKER_FILE: Path(scratch) / RERANKER_FILE}
        if structure is not None:  # scored as it is shipped: int8
            examples = structure_examples(Path(structure))
            extra[STRUCTURE_FILE] = save_structure(Path(structure), Path(scratch) / STRUCTURE_FILE, "int8", examples)
            engine.set_structure(Structure.load(extra[STRUCTURE_FILE], tokenizer_path))
        elif engine.structure is not None:
            extra[STRUCTURE_FILE] = Path(model_dir) / STRUCTURE_FILE
        key = {
            "weights": sha256_file(Path(model_dir) / WEIGHTS_FILE),
            "index": sha256_file(extra[INDEX_FILE]),
            "structure": structure_key(extra[STRUCTURE_FILE], engine) if STRUCTURE_FILE in extra else None,
            "suite": suite,
            "limit": limit,
            "bits": spec.bits,
        }
        if spec.structure_beams:  # the key of pools proposed before there was a choice stays as it was
            key["structure_beams"] = spec.structure_beams
        if pools_in:
            # The structure model only scores the proposals: pools of another one are scored anew.
            pools, lexicon, recorded = load_all_pools(pools_in, {k: v for k, v in key.items() if k != "structure"})
            key["suite"] = suite = recorded["suite"]
            _weights_name_fitted_suites(spec, suite)
            groups_count = int(recorded.get("lexicon_groups", 0))
            if report is not None:
                report(f"{len(pools)} pools of {suite} and their lexicon from {', '.join(map(str, pools_in))}")
            if recorded.get("structure") != key["structure"]:
                pools = rescore_structure(engine, pools, report)
            if spec.review_top > 0 and any(p.review is None for p in pools):
                pools = rescore_review(engine, pools, report)
            if spec.excess:  # pools proposed before it was recorded have none (seconds for 1,000 pools)
                pools = rescore_excess(engine, pools, lexicon, report)
        else:
            _weights_name_fitted_suites(spec, suite)
            groups = lexicon_groups(engine.index, spec)
            groups_count = len(groups)
            if report is not None:
                report(f"lexicon: {groups_count} training requests, {1 << spec.bits} slots")
            lexicon = train_lexicon(groups, spec, report)
            # The answer path orders the retrieved pairs with the reranker's lexicon (``Engine.neighbors``):
            # the pools are collected with this lexicon in that place, as the fitted reranker will answer.
            engine.set_reranker(lexicon_only(lexicon))
            if spec.structure_beams and engine.structure is None:
                raise UsageError("--structure-beams needs a structure model (--structure, or one in the model)")
            pools = collect(
                engine,
                load_suite(suite, limit),
                report,
                reviewed=spec.review_top > 0,
                structure_beams=spec.structure_beams,
                suite=suite,
            )
        if pools_out is not None:
            save_pools(pools_out, pools, lexicon, {**key, "lexicon_groups": groups_count})
        programs = None
        if spec.programs:
            index = engine.index
            programs = program_table((index.requests[i], index.commands[i]) for i in range(len(index)))
            if report is not None:
                report(f"program table: {len(programs)} programs of the index's {len(index)} pairs")
        reranker, figures = fit_on_pools(pools, lexicon, spec, programs)
        if report is not None:
            if "first_top1" in figures:
                report(
                    f"the first stage alone: NLC2CMD top-5 {figures['first_top5']:.3f}, top-1 "
                    f"{figures['first_top1']:.3f}, argument F1 at 1 {figures['first_args1']:.3f}"
                )
            report(
                f"{suite}, {figures['requests']} requests, 5-fold: NLC2CMD top-5 {figures['hand_top5']:.3f} -> "
                f"{figures['cv_top5']:.3f}, top-1 {figures['hand_top1']:.3f} -> {figures['cv_top1']:.3f}, "
                f"argument F1 at 1 {figures['hand_args1']:.3f} -> {figures['cv_args1']:.3f}"
            )
            for name, mine in figures.get("suites", {}).items():
                report(
                    f"  {name}, {mine['requests']} requests, weight {mine['weight']:g}: NLC2CMD top-5 "
                    f"{mine['hand_top5']:.3f} -> {mine['cv_top5']:.3f}, top-1 {mine['hand_top1']:.3f} -> "
                    f"{mine['cv_top1']:.3f}"
                )
            unsure = figures.get("unsure_below")
            report(
                "first answers scored below "
                + (
                    f"{unsure:.2f} are marked unsure"
                    if unsure is not None
                    else "any threshold are right too often to mark"
                )
            )
        config, weights = load_weights(model_dir)
        dtype = {"f16": "float16", "i8": "int8"}.get(stored_dtype(model_dir), "float32")  # as the source stores it
        reranker.save(extra[RERANKER_FILE])
        save_model_dir(dest, config, weights, load_tokenizer(model_dir), dtype=dtype, extra_files=extra)
    return {
        **figures,
        "suite": suite,
        "lexicon_groups": groups_count,
        "structure": str(structure) if structure is not None else None,
        "pools": [str(p) for p in pools_in] or None,
        "weights": dict(zip(reranker.names, reranker.weights.tolist(), strict=True)),
        "structure_beams": spec.structure_beams,
        "suite_weights": dict(spec.suite_weights),
        "review_weights": None
        if reranker.review is None
        else dict(zip([*reranker.names, REVIEWER], reranker.review.weights.tolist(), strict=True)),
    }
