"""What a structure model (``bash-ai train --targets template``) is worth, before the engine uses it.

    python benchmarks/structure_probe.py STRUCTURE_DIR [--alone] [--model bundled] [--pools pools.pkl] [--limit N]

Two measurements, on nl2bash-dev (the tuning split) and the everyday suites:

1. **alone** (``--alone``: this only): the structure model's 5 best templates by beam search
   (width 5), no retrieval in the prompt, scored with NLC2CMD against the reference (the metric
   reads programs and flags only, so a template scores as its filled command would).
2. **as a ranking feature**: ``--model``'s own pool for each request (beams and retrieved commands,
   ``trainer.rerank.collect``), the reranker's features (``candidate_features``, the model's
   lexicon), plus the structure model's log-probability of each candidate's template after the
   request (``bash_ai.engine.structure``, as the answer path computes it). The linear reranker is fitted the way ``--stage rerank`` fits
   it: 5-fold cross-validation on nl2bash-dev (every request scored by a fit that never saw it);
   the everyday suites are scored by the fit on all of nl2bash-dev. ``base`` is the same without
   the structure columns.

The pools take a few minutes to collect; ``--pools FILE`` keeps them (a pickle this script wrote)
for the next structure model.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bash_ai.engine.beam import beam_search  # noqa: E402
from bash_ai.engine.structure import MAX_TEMPLATE_TOKENS, Structure  # noqa: E402
from bash_ai.nlc2cmd import nlc2cmd_score, nlc2cmd_topk  # noqa: E402

SUITES = ("nl2bash-dev", "everyday-dev", "everyday-test")


class Probe:
    """A structure model directory behind the engine's prompt layout: its best templates for a
    request (beam search), and the log-probabilities the answer path ranks with."""

    def __init__(self, directory: Path) -> None:
        from bash_ai.registry import load

        self.engine = load(str(directory))
        shipped = self.engine.structure  # a model directory that ships a structure model: that one
        self.structure = shipped if shipped is not None else Structure(self.engine.model)  # type: ignore[arg-type]
        self.context = int(self.structure.model.config.context_length)
        self.banned = self.engine.never_ids

    def prompt(self, request: str) -> list[int]:
        return self.engine.template_prompt(request, context=self.context)

    def templates(self, request: str, width: int = 5) -> list[str]:
        e, model = self.engine, self.structure.model
        beams = beam_search(
            model, self.prompt(request), e.eot_id, width=width, max_tokens=MAX_TEMPLATE_TOKENS, banned=self.banned
        )
        return [e.tokenizer.decode(list(b.tokens)).strip() for b in beams if b.finish_reason == "eos"]

    def logprobs(self, request: str, commands: list[str]) -> np.ndarray:
        """(len(commands), 1): each template's total log-probability (the answer path's feature)."""
        templates = self.engine.template_ids(commands)
        return self.structure.logprobs(self.prompt(request), templates).reshape(len(commands), 1)


def alone(structure: Probe, examples: list[Any]) -> tuple[float, float]:
    top5 = top1 = 0.0
    for ex in examples:
        found = structure.templates(ex.request) or [""]
        top5 += nlc2cmd_topk(found, ex.reference)
        top1 += nlc2cmd_score(found[0], ex.reference) if found[0] else -1.0
    return top5 / len(examples), top1 / len(examples)


def collect_pools(model: str, limit: int | None) -> dict[str, list[Any]]:
    from bash_ai.registry import load
    from trainer.data.suites import load_suite
    from trainer.rerank import collect

    engine = load(model)
    return {s: collect(engine, load_suite(s, limit)) for s in SUITES}


def fit_and_measure(pools: dict[str, list[Any]], extra: dict[str, list[np.ndarray]] | None, lexicon: np.ndarray) -> str:
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.engine.rerank import candidate_features
    from trainer.rerank import RerankSpec, cross_validated, measure, pool_targets

    spec, temperature = RerankSpec(), DecodeConfig().cover_temperature

    def rows(suite: str) -> list[np.ndarray]:
        out = [candidate_features(p.request, p.proposals, lexicon) for p in pools[suite]]
        return [np.hstack([f, x]) for f, x in zip(out, extra[suite], strict=True)] if extra else out

    held, (w, mean, std) = cross_validated(rows("nl2bash-dev"), pool_targets(pools["nl2bash-dev"], spec), spec)
    top5, top1, _ = measure(pools["nl2bash-dev"], held, temperature)
    parts = [f"nl2bash-dev ({spec.folds}-fold) {top5:.3f} / {top1:+.3f}"]
    for suite in SUITES[1:]:
        top5, top1, _ = measure(
            pools[suite], [(f - mean) / std @ w if len(f) else f[:, 0] for f in rows(suite)], temperature
        )
        parts.append(f"{suite} {top5:.3f} / {top1:+.3f}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "structure",
        type=Path,
        help="a model directory trained with --targets template, or one that ships a structure model (bundled)",
    )
    parser.add_argument("--alone", action="store_true", help="measure it alone only (no pools, no ranking)")
    parser.add_argument("--model", default="bundled", help="the answering model whose pools are ranked")
    parser.add_argument("--pools", type=Path, help="read the pools from this pickle, or write them there")
    parser.add_argument("--limit", type=int, help="the first N requests of each suite only")
    args = parser.parse_args()
    from bash_ai.api import import_numpy_single_threaded
    from bash_ai.registry import load

    import_numpy_single_threaded()
    structure = Probe(args.structure)
    if args.alone:
        pools: dict[str, list[Any]] = {}
    elif args.pools is not None and args.pools.is_file():
        pools = pickle.loads(args.pools.read_bytes())
    else:
        started = time.perf_counter()
        pools = collect_pools(args.model, args.limit)
        print(f"pools collected in {time.perf_counter() - started:.0f} s", flush=True)
        if args.pools is not None:
            from bash_ai.io import atomic_write_bytes

            atomic_write_bytes(args.pools, pickle.dumps(pools))
    from trainer.data.suites import load_suite

    for suite in SUITES:
        started = time.perf_counter()
        top5, top1 = alone(structure, load_suite(suite, args.limit))
        print(
            f"alone, {suite}: NLC2CMD top-5 {top5:.3f}, top-1 {top1:+.3f} ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    if args.alone:
        return
    extra = {s: [structure.logprobs(p.request, [q.text for q in p.proposals]) for p in pools[s]] for s in SUITES}
    reranker = load(args.model).reranker
    if reranker is None:
        raise SystemExit(f"{args.model} has no reranker, whose lexicon the ranking needs")
    lexicon = reranker.lexicon
    print("as a ranking feature:")
    print(f"  base:       {fit_and_measure(pools, None, lexicon)}")
    print(f"  + template: {fit_and_measure(pools, extra, lexicon)}")


if __name__ == "__main__":
    main()
