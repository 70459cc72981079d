"""Probes of the trained reranker on a rerank run's stored pools: does a new column, lexicon or
tuning split rank nl2bash-dev better than the bundled fit?

    python benchmarks/pool_probe.py --pools RUN/pools.json.gz [--model bundled] PROBE...

Every probe is fitted and measured as ``bash-ai train --stage rerank`` does (``trainer.rerank``):
both stages (the linear first stage, then the review stage over its 3 best), 5-fold on the 779
nl2bash-dev pools, the figures of the answer path (top-5 with the pool covered, top-1, argument
F1 of the first). ``base`` is the pools' own fit, printed first.

Probes (one or more):
- ``column:plain``: one more review column pair, the model's log p(command | request) behind the
  plain "ask" prompt, no retrieved examples (total and per token). The first stage's
  log-probability is read behind the prompt with the examples, which a retrieved command copies.
- ``column:template-review=DIR``: one more review column, log p(request | template) per request
  token by model DIR's explain direction (the candidate's arguments abstracted, as NLC2CMD reads it).
- ``lexicon:bigrams`` / ``lexicon:epochs=N``: the lexicon trained anew on the model's index with
  adjacent request-word pairs as words too, or for N passes (10 ships); then both stages refitted.
- ``stored:PATH`` / ``stored-first:PATH``: a column computed elsewhere (a pickled list of one array
  per pool, e.g. ``judge_probe.py pools``), in the review stage, or in the first stage (and so both).
- ``tune:SUITE=W,W...``: the pools of a second tuning split (everyday-dev), proposed by ``--model``,
  in the fit with weight W (each pool counted W times). Measured 5-fold on both splits (the other
  split always wholly in the fit), and on ``--report-on`` (everyday-test) by the fit on all.
  Choose W on the dev figures before reading the reported ones.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bash_ai.engine.rerank as rerank_mod  # noqa: E402
import trainer.rerank as T  # noqa: E402
from bash_ai.engine.rerank import candidate_features, finite_reviews, linear_scores, review_rows  # noqa: E402

Data = tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]  # first-stage, review-stage features, targets


def cover() -> float:
    from bash_ai.engine.propose import DecodeConfig

    return DecodeConfig().cover_temperature


def prepare(
    pools: Sequence[T.Pool],
    lexicon: np.ndarray,
    spec: T.RerankSpec,
    extra: Sequence[list[np.ndarray]] = (),
    first_extra: Sequence[list[np.ndarray]] = (),
) -> Data:
    """Both stages' features (the review stage's with ``extra`` columns after the reviewer's; the
    first stage's, and so the review stage's too, with ``first_extra`` columns after its own)."""
    first = [
        np.hstack(
            [
                candidate_features(p.request, p.proposals, lexicon, p.structure, match=spec.match),
                *(np.asarray(c[i]).reshape(len(p.proposals), -1) for c in first_extra),
            ]
        )
        for i, p in enumerate(pools)
    ]
    second = [
        np.hstack([review_rows(f, p.review), *(np.asarray(c[i]).reshape(len(f), -1) for c in extra)])
        for i, (f, p) in enumerate(zip(first, pools, strict=True))
    ]
    return first, second, T.pool_targets(pools, spec)


def both_stages(pools: Sequence[T.Pool], data: Data, spec: T.RerankSpec) -> tuple[float, float, float]:
    """5-fold figures of the two stages on ``pools``, as ``fit_on_pools`` reports them."""
    first, second, targets = data
    held1, _ = T.cross_validated(first, targets, spec)
    scores, (w, _, _) = T.review_stage(pools, held1, second, targets, spec)
    print(f"    review-stage weights after the base columns: {np.round(w[first[0].shape[1] :], 3)}")
    return T.measure(pools, scores, cover())


def show(name: str, figures: Sequence[float]) -> None:
    print(f"{name}: top-5 {figures[0]:.4f}, top-1 {figures[1]:.4f}, argument F1 {figures[2]:.4f}", flush=True)


def column(
    engine: Any, pools: Sequence[T.Pool], score: Callable[[Any, str, list[str]], np.ndarray]
) -> list[np.ndarray]:
    out = []
    for i, pool in enumerate(pools, 1):
        out.append(score(engine, pool.request, [q.text for q in pool.proposals]))
        if i % 100 == 0:
            print(f"    scored {i}/{len(pools)}", flush=True)
    return out


def plain_forward(engine: Any, request: str, commands: list[str]) -> np.ndarray:
    prompt = engine.fit_prompt(engine.task_ids("ask", request), 96)[0]
    targets = [engine.encode_text(c.strip()) + [engine.eot_id] for c in commands]
    total = np.array(engine.continuation_logprobs([(prompt, t) for t in targets]), dtype=np.float64)
    total = np.where(np.isfinite(total), total, rerank_mod.UNREVIEWED * 10)
    return np.stack([total, total / np.array([len(t) for t in targets])], axis=1)


def template_review(engine: Any, request: str, commands: list[str]) -> np.ndarray:
    from bash_ai.templates import command_template

    return finite_reviews(engine.review_logprobs(request, [command_template(c) or c for c in commands]))


def bigram_words(request: str) -> list[str]:
    words = [w for w in rerank_mod._WORD.findall(request.lower()) if w not in rerank_mod._STOP]
    return sorted({*words, *(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False))})


def probe_lexicon(model: Any, pools: Sequence[T.Pool], spec: T.RerankSpec, bigrams: bool) -> None:
    words = rerank_mod.request_words
    if bigrams:  # both the lexicon's training and the features read request words through these
        rerank_mod.request_words = T.request_words = bigram_words  # type: ignore[attr-defined]
    try:
        lexicon = T.train_lexicon(T.lexicon_groups(model.index, spec), spec, print)
        figures = both_stages(pools, prepare(pools, lexicon, spec), spec)
    finally:  # the probes after this one read the shipped words again
        rerank_mod.request_words = T.request_words = words  # type: ignore[attr-defined]
    show(f"lexicon {'bigrams' if bigrams else ''} epochs {spec.epochs}", figures)


def probe_tuning(
    model: Any,
    pools: Sequence[T.Pool],
    lexicon: np.ndarray,
    spec: T.RerankSpec,
    suite: str,
    weights: list[int],
    report_on: str,
) -> None:
    from trainer.data.suites import load_suite

    extra = T.collect(model, load_suite(suite), print, reviewed=True)
    reported = T.collect(model, load_suite(report_on), print, reviewed=True)
    main, side, out = prepare(pools, lexicon, spec), prepare(extra, lexicon, spec), prepare(reported, lexicon, spec)

    def fit(parts: list[tuple[Data, Sequence[int], int]]) -> tuple[T.Linear, T.Linear]:
        one: list[tuple[np.ndarray, np.ndarray]] = []
        two: list[tuple[np.ndarray, np.ndarray]] = []
        for (first, second, targets), rows, weight in parts:
            for _ in range(weight):
                one += [(first[i], targets[i]) for i in rows]
                two += [(second[i], targets[i]) for i in rows]
        return T.fit_linear(one, spec), T.fit_linear(two, spec)

    def ranked(
        models: tuple[T.Linear, T.Linear], data: Data, group: Sequence[T.Pool], rows: Sequence[int]
    ) -> list[np.ndarray]:
        (w1, m1, s1), (w2, m2, s2) = models
        return [
            T._two_stage(
                spec.review_top, group[i], linear_scores(data[0][i], w1, m1, s1), linear_scores(data[1][i], w2, m2, s2)
            )
            for i in rows
        ]

    def held_out(data: Data, group: Sequence[T.Pool], other: Data, n_other: int, weight: int, own: int) -> list[Any]:
        held: list[Any] = [None] * len(group)
        for fold in np.array_split(np.random.default_rng(spec.seed).permutation(len(group)), spec.folds):
            inside = set(fold.tolist())
            rest = [i for i in range(len(group)) if i not in inside]
            models = fit([(data, rest, own), (other, range(n_other), weight)])
            for i, s in zip(fold, ranked(models, data, group, fold), strict=True):
                held[int(i)] = s
        return held

    for w in weights:
        side_cv = T.measure(extra, held_out(side, extra, main, len(pools), 1, w), cover())
        main_cv = T.measure(pools, held_out(main, pools, side, len(extra), w, 1), cover())
        show(f"{suite} weight {w}: {suite} 5-fold", side_cv)
        show(f"{suite} weight {w}: nl2bash-dev 5-fold", main_cv)
        models = fit([(main, range(len(pools)), 1), (side, range(len(extra)), w)])
        show(
            f"{suite} weight {w}: {report_on}",
            T.measure(reported, ranked(models, out, reported, range(len(reported))), cover()),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("probes", nargs="+")
    parser.add_argument("--pools", type=Path, required=True, help="a rerank run's pools.json.gz (with reviewer scores)")
    parser.add_argument("--model", default="bundled", help="the model the pools were proposed by")
    parser.add_argument("--report-on", default="everyday-test")
    parser.add_argument("--cache", type=Path, help="a directory to keep computed columns in (pickles)")
    args = parser.parse_args()
    from bash_ai.api import import_numpy_single_threaded, load_engine

    import_numpy_single_threaded()
    spec = T.RerankSpec()
    pools, lexicon, _ = T.load_pools(args.pools, {"bits": spec.bits})
    if any(p.review is None for p in pools):
        sys.exit("pool_probe: these pools have no reviewer scores; refit them once with --stage rerank --pools")
    model = load_engine(args.model)
    show("base", both_stages(pools, prepare(pools, lexicon, spec), spec))
    for probe in args.probes:
        kind, _, value = probe.partition(":")
        if kind == "column":
            name, _, where = value.partition("=")
            scorer = {"plain": plain_forward, "template-review": template_review}[name]
            cached = args.cache / f"{name}-{Path(where or args.model).name}.pkl" if args.cache else None
            if cached is not None and cached.is_file():
                col = pickle.loads(cached.read_bytes())
            else:
                col = column(load_engine(where) if where else model, pools, scorer)
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(pickle.dumps(col))
            show(f"+ {probe}", both_stages(pools, prepare(pools, lexicon, spec, [col]), spec))
        elif kind in ("stored", "stored-first"):
            col = pickle.loads(Path(value).read_bytes())
            extra = {"extra": [col]} if kind == "stored" else {"first_extra": [col]}
            show(f"+ {probe}", both_stages(pools, prepare(pools, lexicon, spec, **extra), spec))
            alone = T.measure(pools, [np.asarray(c).reshape(-1) for c in col], cover())
            show("  the column alone", alone)
        elif kind == "lexicon":
            epochs = int(value.split("=")[1]) if value.startswith("epochs=") else spec.epochs
            probe_lexicon(model, pools, T.RerankSpec(epochs=epochs), value == "bigrams")
        elif kind == "tune":
            suite, _, weights = value.partition("=")
            probe_tuning(model, pools, lexicon, spec, suite, [int(w) for w in weights.split(",")], args.report_on)
        else:
            sys.exit(f"pool_probe: unknown probe {probe!r}")


if __name__ == "__main__":
    main()
