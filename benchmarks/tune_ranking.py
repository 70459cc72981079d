"""Tune the answer ranking's weights offline: propose once, rerank many times.

    python benchmarks/tune_ranking.py --model DIR [--suite nl2bash-dev] [--limit N] [--features F.pkl]

Every candidate of every request is proposed once with the ranking terms off (beam search plus
the pooled training commands, each with its log-probability, token count, source and BM25
relevance), then reranked under a grid of weights exactly as ``bash_ai.engine.propose`` ranks
(length penalty ``alpha``, ``retrieval_weight`` x relevance, ``retrieval_bonus``, ``consensus`` x
the MBR agreement; distinct structures; cut hypotheses last) and scored with NLC2CMD top-5 and
top-1. Syntax checks are left out (the bundled model's candidates are all valid). Prints the best
settings by top-5 + top-1; check the chosen one with a real ``bash-ai eval`` run.
"""

from __future__ import annotations

import argparse
import itertools
import math
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any


def collect(model: str, suite: str, limit: int | None) -> list[dict[str, Any]]:
    from bash_ai.api import import_numpy_single_threaded

    import_numpy_single_threaded()
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.registry import load
    from trainer.data.suites import load_suite

    engine = load(model)
    off = DecodeConfig(reviewer=0.0, retrieval_weight=0.0, retrieval_bonus=0.0, consensus=0.0, distinct=False)
    rows = []
    for i, ex in enumerate(load_suite(suite, limit)):
        rows.append({"reference": ex.reference, "proposals": propose(engine, ex.request, off)})
        if i % 100 == 0:
            print(f"proposed {i}", flush=True)
    return rows


def rerank(proposals: list[Any], alpha: float, bonus: float, relevance: float, consensus: float) -> list[str]:
    from bash_ai.answer import distinct_commands
    from bash_ai.engine.proposal import agree, normalised

    scored = []
    for p in proposals:
        score = normalised(p.logprob, p.n_tokens, alpha) + relevance * p.retrieval
        if p.source == "retrieval":
            score += bonus
        scored.append(replace(p, score=score))
    if consensus > 0 and len(scored) > 1:
        scored = agree(scored, consensus)
    ordered = sorted(scored, key=lambda p: (p.finish_reason != "eos", -p.score))
    return list(distinct_commands(ordered))


def main() -> None:
    from bash_ai.nlc2cmd import nlc2cmd_topk

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--suite", default="nl2bash-dev")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--features", type=Path, default=None, help="cache the proposals here (pickle)")
    args = parser.parse_args()
    if args.features and args.features.is_file():
        rows = pickle.loads(args.features.read_bytes())
    else:
        rows = collect(args.model, args.suite, args.limit)
        if args.features:
            args.features.write_bytes(pickle.dumps(rows))
    grid = itertools.product((0.6, 1.0), (0.0, 0.5, 1.0, 2.0), (0.0, 2.0, 4.0, 6.0), (0.0, 2.0, 4.0, 6.0))
    results = []
    for alpha, bonus, relevance, consensus in grid:
        top5 = top1 = 0.0
        for row in rows:
            ranked = rerank(row["proposals"], alpha, bonus, relevance, consensus)[:5] or [""]
            top5 += nlc2cmd_topk(ranked, row["reference"])
            top1 += nlc2cmd_topk(ranked[:1], row["reference"])
        n = len(rows)
        results.append((top5 / n + top1 / n, top5 / n, top1 / n, alpha, bonus, relevance, consensus))
    results.sort(reverse=True)
    default = next(r for r in results if r[3:] == (0.6, 1.0, 4.0, 4.0))
    print(
        f"{len(rows)} requests of {args.suite}; default alpha=0.6 bonus=1 relevance=4 consensus=4: "
        f"top-5 {default[1]:.3f} top-1 {default[2]:.3f}"
    )
    for _, top5, top1, alpha, bonus, relevance, consensus in results[:10]:
        print(
            f"alpha={alpha} bonus={bonus} relevance={relevance} consensus={consensus}: top-5 {top5:.3f} top-1 {top1:.3f}"
        )
    assert all(math.isfinite(r[0]) for r in results)


if __name__ == "__main__":
    main()
