"""How much of the how-to pairs' gain on the everyday suites is near-copies of their requests?

    python benchmarks/howto_apart.py --model DIR --out PREFIX [--threshold 0.5]

The how-to pairs (``trainer/data/sources/howto.py``) were written without reading the everyday
suites, and no request of theirs is a suite request (``tests/test_howto.py``). Both enumerate
common tasks, though, so many suite requests have a how-to pair in nearly the same words. This
writes two model directories beside ``DIR`` (its weights, reranker and structure model, an index
built anew over nl2bash, tldr and howto, with tldr's page names as the bundled index has them):

- ``PREFIX-pairs``: without the how-to pairs whose request shares at least ``threshold`` of its
  words (Jaccard of the BM25 analyzer's terms) with any everyday-dev or everyday-test request;
- ``PREFIX-tasks``: without every pair of those pairs' tasks (the task's other wordings too).

``bash-ai eval -m PREFIX-pairs --suite everyday-test ...`` then measures the everyday requests
that no how-to pair says in nearly the same words; ``-tasks`` those whose task no pair covers.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bash_ai.evaluation.runner import everyday_examples  # noqa: E402
from bash_ai.model_files import INDEX_FILE  # noqa: E402
from bash_ai.registry import resolve_model_dir  # noqa: E402
from bash_ai.retrieval.bm25 import terms, word_overlap  # noqa: E402
from trainer.data.mixing import iter_training_documents  # noqa: E402
from trainer.data.retrieval import build_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the model whose weights and reranker the variants keep")
    parser.add_argument("--out", required=True, type=Path, help="prefix of the two model directories")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()

    suites = [set(terms(ex.request)) for split in ("dev", "test") for ex in everyday_examples(split)]
    docs = list(iter_training_documents(["nl2bash", "tldr", "howto"]))
    near = {
        doc.id
        for name, doc in docs
        if name == "howto" and any(word_overlap(s, doc.request) >= args.threshold for s in suites)
    }
    near_tasks = {doc.meta["task"] for _, doc in docs if doc.id in near}
    howto = [doc for name, doc in docs if name == "howto"]
    variants = {
        "pairs": lambda doc: doc.id not in near,
        "tasks": lambda doc: doc.source != "howto" or doc.meta["task"] not in near_tasks,
    }
    source = resolve_model_dir(args.model)
    for suffix, keep in variants.items():
        kept = [(name, doc) for name, doc in docs if keep(doc)]
        index, _ = build_index(kept, topics=True)
        out = Path(f"{args.out}-{suffix}")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(source, out)
        index.save(out / INDEX_FILE)
        left = sum(1 for name, doc in kept if name == "howto")
        print(f"{out}: {left} of {len(howto)} how-to pairs kept ({len(index)} pairs indexed)")
    print(f"near pairs (threshold {args.threshold}): {len(near)}, their tasks: {len(near_tasks)}")


if __name__ == "__main__":
    main()
