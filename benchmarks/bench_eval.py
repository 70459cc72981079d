"""Cost of ``bash-ai eval`` on NL2Bash dev with a ~10M model (numpy runtime, as the CLI runs it).

    python benchmarks/bench_eval.py [--preset small] [--limit 779] [--max-tokens 96]

Random weights with a BPE tokenizer (vocab 4096) trained on NL2Bash train: speed does not depend
on the weights' values, but a random model never emits end-of-text, so every answer runs to
``--max-tokens``: the generation figure is the worst case. A trained model stops after about as
many tokens as the reference has (reported as "mean reference tokens").

numpy is loaded with a one-thread BLAS, as ``bash-ai eval`` does (``import_numpy_single_threaded``).

Parts:
- teacher-forced loss over the suite: ours (``reference_nll``, right-padded batches sorted by
  length) against the peer in the same run, one sequence per forward pass;
- the whole ``evaluate`` (greedy generation, metrics, ``bash -n``, loss), wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
VOCAB = 4096


def nll_one_by_one(engine: Any, examples: list[Any]) -> float:
    """The peer: one forward pass per reference (batch 1, no padding); total nats."""
    import numpy as np

    total = 0.0
    for ex in examples:
        prompt = engine.task_ids("ask", ex.request)
        target = engine.encode_text(ex.reference) + [engine.eot_id]
        ids = (prompt + target)[-engine.context_length :]
        n = min(len(target), len(ids) - 1)
        logits = engine.model.forward(np.asarray([ids]), engine.model.new_cache(1))[0].astype(np.float64)  # (T, V)
        pred = logits[len(ids) - n - 1 : len(ids) - 1]  # (n, V)
        top = pred.max(axis=-1)
        logz = np.log(np.exp(pred - top[:, None]).sum(axis=-1)) + top
        total += float((logz - pred[np.arange(n), ids[len(ids) - n :]]).sum())
    return total


def build_engine(preset_name: str, out: Path) -> Any:
    from bash_ai.checkpoint import random_weights, save_model_dir
    from bash_ai.config import describe, preset
    from bash_ai.registry import load
    from bash_ai.tokenizer import BPETokenizer
    from trainer.data import iter_documents

    texts = [t for d in iter_documents("nl2bash") if d.split == "train" for t in (d.request, d.command)]
    t0 = time.perf_counter()
    tokenizer = BPETokenizer.train(texts, vocab_size=VOCAB)
    print(f"tokenizer: BPE {VOCAB} on {len(texts):,} NL2Bash train texts in {time.perf_counter() - t0:.1f} s")
    config = preset(preset_name, vocab_size=int(tokenizer.vocab_size))
    save_model_dir(out, config, random_weights(config, seed=0), tokenizer)
    print(f"model: {preset_name}, {describe(config)}")
    return load(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--limit", type=int, default=779)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bash_ai.api import import_numpy_single_threaded

    import_numpy_single_threaded()  # as `bash-ai eval` does
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        os.environ["BASH_AI_HOME"] = tmp
        from bash_ai.evaluation.runner import evaluate, reference_nll
        from trainer.data import fetch_dataset
        from trainer.data.suites import load_suite

        fetch_dataset("nl2bash", DATA / "nl2bash")
        engine = build_engine(args.preset, Path(tmp) / "model")
        examples = load_suite("nl2bash-dev", args.limit)
        ref_tokens = [len(engine.encode_text(ex.reference)) + 1 for ex in examples]
        print(
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
        )
        print(f"examples: {len(examples)}, mean reference tokens {np.mean(ref_tokens):.1f} (max {max(ref_tokens)})")

        t0 = time.perf_counter()
        ours = sum(loss[0] for loss in reference_nll(engine, examples) if loss is not None)
        t1 = time.perf_counter()
        peer = nll_one_by_one(engine, examples)
        t2 = time.perf_counter()
        print(
            f"loss: batched {t1 - t0:.2f} s, one by one {t2 - t1:.2f} s ({(t2 - t1) / (t1 - t0):.1f}x); "
            f"same total: {abs(ours - peer) / peer:.1e} relative difference"
        )

        t0 = time.perf_counter()
        result = evaluate(engine, "nl2bash-dev", examples, max_tokens=args.max_tokens)
        wall = time.perf_counter() - t0
        generated = len(examples) * args.max_tokens
        print(
            f"evaluate: {wall:.1f} s for {len(examples)} examples ({wall / len(examples) * 1e3:.0f} ms each, "
            f"worst case {args.max_tokens} tokens per answer, ~{generated / wall:.0f} tok/s overall)"
        )
        print("metrics:", {k: round(v, 3) for k, v in result.metrics.items()})


if __name__ == "__main__":
    main()
