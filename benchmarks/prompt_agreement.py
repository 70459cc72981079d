"""Agreement across prompts: is a pooled candidate also among the beams behind other examples?

The answer's beams are searched behind the request's 3 nearest training pairs. This probe searches
them again behind other neighbours of the same request (by default the 4th-6th, and the 1st, 4th
and 5th) and writes, for every candidate of a rerank run's stored pools, two columns for
``pool_probe.py stored:`` / ``stored-first:``:

- ``PREFIX-count.pkl``: in how many of the other prompts' beams the candidate is;
- ``PREFIX-ranked.pkl``: the sum of 1 / (1 + its rank) over those beams.

    python benchmarks/prompt_agreement.py --pools RUN/pools.json.gz --out PREFIX [--prompts "3,4,5;0,3,4"] [--limit N]

A beam is adapted to the request as the answer adapts it (``adapt_by_examples`` with the pooled
examples that hold the same command); only beams that ended are kept, as ``propose`` ranks them first.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", required=True)
    parser.add_argument("--out", required=True, help="prefix of the two column files")
    parser.add_argument("--model", default="assets/model")
    parser.add_argument("--prompts", default="3,4,5;0,3,4", help="neighbour positions of each other prompt")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pools")
    args = parser.parse_args()

    from bash_ai.api import import_numpy_single_threaded

    import_numpy_single_threaded()
    import numpy as np

    import trainer.rerank as T
    from bash_ai.api import load_engine
    from bash_ai.engine.beam import beam_search
    from bash_ai.engine.propose import adapt_by_examples
    from bash_ai.io import atomic_write_bytes
    from bash_ai.nlc2cmd import nlc2cmd_score

    engine = load_engine(args.model)
    pools, _, _ = T.load_pools(Path(args.pools), {"bits": T.RerankSpec().bits})
    pools = pools[: args.limit] if args.limit else pools
    specs = [[int(j) for j in spec.split(",")] for spec in args.prompts.split(";")]
    count, ranked = [], []
    agreed, alone = [], []
    for i, pool in enumerate(pools, 1):
        found = engine.neighbors(pool.request, 12)
        beams: list[list[str]] = []
        for spec in specs:
            examples = [found[j] for j in spec if j < len(found)]
            prompt, _ = engine.fit_prompt(engine.ask_ids(pool.request, examples, reserve=96), 96)
            texts = []
            for beam in beam_search(engine.model, prompt, engine.eot_id, width=5, banned=engine.never_ids):
                text = engine.tokenizer.decode(list(beam.tokens)).strip()
                if beam.finish_reason == "eos" and text:
                    asked = [n.request for n in found if n.command.strip() == text]
                    texts.append(adapt_by_examples(text, asked, pool.request) or text)
            beams.append(texts)
        texts = [q.text for q in pool.proposals]
        count.append(np.array([sum(t in b for b in beams) for t in texts], dtype=np.float64))
        ranked.append(np.array([sum(1 / (1 + b.index(t)) for b in beams if t in b) for t in texts], dtype=np.float64))
        for text, n in zip(texts, count[-1], strict=True):
            (agreed if n > 0 else alone).append(nlc2cmd_score(text, pool.reference))
        if i % 100 == 0:
            print(f"{i}/{len(pools)} pools", flush=True)
    atomic_write_bytes(Path(f"{args.out}-count.pkl"), pickle.dumps(count))
    atomic_write_bytes(Path(f"{args.out}-ranked.pkl"), pickle.dumps(ranked))
    print(
        f"{len(pools)} pools, {np.mean([c.max() > 0 for c in count]):.2f} with a candidate another prompt's beams hold"
    )
    print(
        f"those candidates' mean NLC2CMD {np.mean(agreed):.3f} (n={len(agreed)}), the rest {np.mean(alone):.3f} (n={len(alone)})"
    )


if __name__ == "__main__":
    main()
