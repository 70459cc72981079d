"""The reranker's review stage: a second linear model that re-ranks the first stage's few best
finished candidates with the reviewer score, log p(request | candidate) per request token. Its
file round-trips (older files still load, a damaged stage is one clear error), it re-ranks only
the few it reviews and keeps the rest after them, the engine scores exactly those with its
reverse direction, the fit learns it on pools, and ``bash-ai train --stage rerank`` writes it
(``--review-top 0``: none)."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file
from test_rerank import PAIRS, _bash_ai, rerank_setup

from bash_ai.engine.proposal import Proposal
from bash_ai.engine.rerank import (
    FEATURES,
    RERANKER_FILE,
    REVIEWER,
    Reranker,
    Review,
    load_reranker,
    reviewed_scores,
)
from bash_ai.errors import ModelError
from bash_ai.registry import load
from bash_ai.retrieval import RetrievalIndex

N = len(FEATURES)
LOGPROB = FEATURES.index("logprob_per_token")


def _reranker(first: dict[str, float], second: dict[str, float] | None = None, top: int = 2) -> Reranker:
    """A reranker whose stages weigh only the named features (standardised by mean 0, std 1)."""
    weights = np.array([first.get(name, 0.0) for name in FEATURES])
    review = None
    if second is not None:
        names = (*FEATURES, REVIEWER)
        review = Review(np.array([second.get(n, 0.0) for n in names]), np.zeros(N + 1), np.ones(N + 1), top)
    return Reranker(np.zeros(1 << 8, dtype=np.float32), weights, np.zeros(N), np.ones(N), FEATURES, review)


def _pool(*logprobs: float, cut: tuple[int, ...] = ()) -> list[Proposal]:
    """Beams whose per-token log-probability is ``logprobs`` (each of one token)."""
    return [
        Proposal(f"echo {i}", "beam", 2 * lp, 1, 0.0, "length" if i in cut else "eos") for i, lp in enumerate(logprobs)
    ]


def test_the_review_stage_reorders_only_the_first_stages_best_and_keeps_the_rest_after() -> None:
    reranker = _reranker({"logprob_per_token": 1.0}, {REVIEWER: 1.0}, top=2)
    pool = _pool(-1.0, -2.0, -3.0, -4.0)
    asked: list[list[int]] = []

    def review(chosen: list[int]) -> np.ndarray:
        asked.append(list(chosen))
        return np.array([{0: -3.0, 1: -0.5}[i] for i in chosen])

    scores = [p.score for p in reranker.rescore("say", pool, review=review)]
    assert asked == [[0, 1]]  # only the first stage's two best are reviewed
    assert np.argsort(scores)[::-1].tolist() == [1, 0, 2, 3]  # the reviewer prefers the second
    assert scores[2] - scores[3] == pytest.approx(1.0)  # the rest keep their spread
    assert max(scores[2:]) < min(scores[:2])
    # Without a scorer (the REPL's cancelled key press, --no-review), the first stage's order stands.
    assert [p.score for p in reranker.rescore("say", pool)] == pytest.approx([-1.0, -2.0, -3.0, -4.0])
    # A candidate too long to review scores as the worst reviewed one would.
    low = reranker.rescore("say", pool, review=lambda chosen: np.array([-math.inf, -0.5]))
    assert np.argsort([p.score for p in low])[::-1].tolist() == [1, 0, 2, 3]


def test_cut_hypotheses_are_not_reviewed_while_finished_ones_remain() -> None:
    reranker = _reranker({"logprob_per_token": 1.0}, {REVIEWER: 1.0}, top=2)
    pool = _pool(-1.0, -2.0, -3.0, cut=(0,))
    asked: list[list[int]] = []

    def review(chosen: list[int]) -> np.ndarray:
        asked.append(list(chosen))
        return np.zeros(len(chosen))

    reranker.rescore("say", pool, review=review)
    assert asked == [[1, 2]]


def test_reviewed_scores_with_nothing_left_over_or_nothing_chosen() -> None:
    first = np.array([3.0, 1.0])
    assert reviewed_scores(first, [0, 1], np.array([5.0, 7.0])).tolist() == [5.0, 7.0]
    assert reviewed_scores(first, [], np.zeros(0)).tolist() == [3.0, 1.0]


def test_a_review_stage_round_trips_and_a_damaged_one_is_one_clear_error(tmp_path: Path) -> None:
    plain = _reranker({"lexicon": 1.0})
    plain.save(tmp_path / RERANKER_FILE)
    with safe_open(str(tmp_path / RERANKER_FILE), framework="np") as handle:
        assert (handle.metadata() or {})["format_version"] == "2"  # a file without one is as before
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.review is None

    saved = _reranker({"lexicon": 1.0}, {REVIEWER: 0.5, "named": 0.25}, top=3)
    path = saved.save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.review is not None and saved.review is not None
    assert loaded.review.top == 3
    np.testing.assert_allclose(loaded.review.weights, saved.review.weights)

    with safe_open(str(path), framework="np") as handle:
        meta = dict(handle.metadata() or {})
        arrays = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    for broken_meta, broken_arrays, why in (
        ({**meta, "review_top": "0"}, arrays, "review_top"),
        ({**meta, "review_top": "x"}, arrays, "review_top"),
        (meta, {k: v for k, v in arrays.items() if k != "review_std"}, "review_std"),
        (meta, {**arrays, "review_weights": arrays["review_weights"][:-1]}, "review_weights"),
        (meta, {**arrays, "review_std": np.zeros(N + 1, np.float32)}, "std must be positive"),
        ({**meta, "format_version": "4"}, arrays, "other features"),
    ):
        save_file(broken_arrays, str(path), broken_meta)
        with pytest.raises(ModelError, match=why) as caught:
            load_reranker(tmp_path)
        assert str(caught.value).count(str(path)) == 1 and "\n" not in str(caught.value)


def test_the_engine_reviews_its_best_with_its_reverse_direction(trained_model_dir: Path) -> None:
    from bash_ai.engine.propose import DecodeConfig, propose

    engine = load(str(trained_model_dir))
    target = engine.encode_text("say hello") + [engine.eot_id]
    commands = ["echo hello", "ls -la /tmp"]
    expected = [
        lp / len(target)
        for lp in engine.continuation_logprobs([(engine.task_ids("explain", c), target) for c in commands])
    ]
    np.testing.assert_allclose(engine.review_logprobs("  say hello ", commands), expected)

    engine.set_index(RetrievalIndex.build(PAIRS))
    config = DecodeConfig(retrieval_k=0, beam_width=4, pool=3, missing_penalty=0.0, rerank_consensus=0.0)
    first = {"logprob_per_token": 1.0}
    engine.set_reranker(_reranker(first))
    before = propose(engine, "list files by size", config)
    ended = [p for p in before if p.finish_reason == "eos"]
    assert len(ended) >= 3
    best = [p.text for p in ended[:3]]
    reviews = engine.review_logprobs("list files by size", best)
    assert len(set(np.round(reviews, 6))) == 3

    for sign in (1.0, -1.0):
        engine.set_reranker(_reranker(first, {REVIEWER: sign}, top=3))
        after = propose(engine, "list files by size", config)
        assert {p.text for p in after[:3]} == set(best)  # the reviewed three stay ahead of the rest
        assert [p.text for p in after[3:]] == [p.text for p in before[3:]]
        wanted = best[int(np.argmax(sign * reviews))]
        assert after[0].text == wanted
    # --no-review: the first stage's order
    unreviewed = propose(engine, "list files by size", config.replace(review=False))
    assert [p.text for p in unreviewed] == [p.text for p in before]


def test_the_fit_learns_a_review_stage_when_the_reviewer_score_predicts_the_target() -> None:
    from trainer.rerank import Pool, RerankSpec, fit_on_pools

    rng = np.random.default_rng(0)
    commands = ["ls -S", "ls -t", "ls -l", "ls -a", "du -sh", "df -h"]
    pools = []
    for i in range(40):
        right = int(rng.integers(len(commands)))
        proposals = [
            Proposal(c, "beam", float(rng.normal(-4, 1)), 3, 0.0, "eos", 0.0) for c in np.roll(commands, i % 3)
        ]
        # The reviewer knows the right command (a little noise), nothing else does.
        review = np.array([(0.0 if p.text == commands[right] else -2.0) + rng.normal(0, 0.2) for p in proposals])
        pools.append(Pool(f"request {i}", commands[right], proposals, None, review))
    spec = RerankSpec(iters=200, review_top=3)
    lexicon = np.zeros(1 << 8, dtype=np.float32)
    reranker, figures = fit_on_pools(pools, lexicon, spec)
    assert reranker.review is not None and reranker.review.top == 3
    assert reranker.review.weights[-1] > 0 and reranker.review.weights[-1] == max(reranker.review.weights)
    assert figures["review_top"] == 3 and "first_top1" in figures
    unreviewed, alone = fit_on_pools(pools, lexicon, RerankSpec(iters=200, review_top=0))
    assert unreviewed.review is None and "first_top1" not in alone
    assert alone["cv_top1"] == figures["first_top1"]
    without = [Pool(p.request, p.reference, p.proposals) for p in pools]
    assert fit_on_pools(without, lexicon, spec)[0].review is None  # no scores in the pools: no stage


def test_train_stage_rerank_writes_the_review_stage_and_scores_pools_without_it(
    trained_model_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    from trainer.rerank import POOLS_FILE

    home, model = rerank_setup(trained_model_dir, shared_data, tmp_path)
    args = ("train", "--stage", "rerank", "--init", str(model), "--limit", "6")
    proc = _bash_ai(*args, "--name", "reviewed", "--out", str(tmp_path / "out"), home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reranker = load_reranker(tmp_path / "out")
    assert reranker is not None and reranker.review is not None and reranker.review.top == 3
    (runs,) = {p.parent.parent for p in home.rglob("rerank.json")}
    fit = json.loads((runs / "reviewed" / "rerank.json").read_text())
    assert set(fit["review_weights"]) == {*FEATURES, REVIEWER}
    answer = _bash_ai("-m", str(tmp_path / "out"), "list files by size", home=home)
    assert answer.returncode == 0 and answer.stdout.strip(), answer.stderr[-2000:]

    doc = json.loads(gzip.decompress((runs / "reviewed" / POOLS_FILE).read_bytes()))
    assert all(len(p["review"]) == len(p["proposals"]) for p in doc["pools"])
    for p in doc["pools"]:
        p["review"] = None  # as pools written before the review stage
    older = tmp_path / "older.json.gz"
    older.write_bytes(gzip.compress(json.dumps(doc).encode()))
    refit = _bash_ai(*args, "--pools", str(older), "--name", "refit", home=home)
    assert refit.returncode == 0, refit.stderr[-2000:]
    assert "reviewed 6/6" in refit.stderr
    again = json.loads((runs / "refit" / "rerank.json").read_text())
    assert again["review_weights"] == pytest.approx(fit["review_weights"])

    none = _bash_ai(*args, "--pools", str(older), "--review-top", "0", "--name", "none", home=home)
    assert none.returncode == 0 and "reviewed" not in none.stderr, none.stderr[-2000:]
    assert json.loads((runs / "none" / "rerank.json").read_text())["review_weights"] is None
    bad = _bash_ai(*args, "--review-top", "-1", "--name", "bad", home=home)
    assert bad.returncode == 2 and "Invalid value for '--review-top'" in bad.stderr and "Traceback" not in bad.stderr
