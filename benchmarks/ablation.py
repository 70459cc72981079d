"""The answer-quality ablation: one ``bash-ai eval --json`` run per row, collected into a table.

    python benchmarks/ablation.py --model DIR --suite nl2bash-dev [--limit N] [--rows a,b] \\
        [--old-model DIR] [--out results.json] [--jobs 2]

Rows (each adds one thing to the one above it):
- ``bm25``: no model; the commands of the 5 nearest training requests (BM25).
- ``old``: the previous bundled model (``--old-model``), greedy + sampled, no retrieval.
- ``model``: this model, greedy + sampled, no retrieval in the prompt.
- ``rag``: + the 3 nearest pairs in the prompt.
- ``beam``: + beam search (width 5) instead of sampling.
- ``pool``: + the 12 nearest training commands (arguments adapted) in the candidates, ranked by the model.
- ``relevance``: + their BM25 relevance in the ranking (and a bonus for a retrieved command).
- ``reviewer``: + the reviewer score log p(request | command) in the ranking.
- ``consensus``: + the agreement with the other candidates (expected NLC2CMD score, MBR).
- ``distinct``: + drop candidates that differ from a better one only in arguments.
- ``default``: all of the above but the reviewer (it cost ~0.2 s per answer and did not help on
  nl2bash-test), with the hand-set ranking weights.
- ``rerank``: the CLI's answer path: the same ranked by the model's trained reranker
  (``bash-ai train --stage rerank``) instead of the hand-set weights.

Every row but ``rerank`` passes ``--no-rerank``, so a model that ships a reranker is measured
without it there.

Prints a Markdown table (and writes every row's JSON to ``--out``). Tune on nl2bash-dev; report
nl2bash-test, tldr-holdout and exec.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BEAM = ["--decode", "beam", "--retrieval-k", "3", "--beam-width", "5", "--no-rerank"]
PLAIN = ["--reviewer", "0", "--retrieval-weight", "0", "--retrieval-bonus", "0", "--consensus", "0"]
POOL = [*BEAM, "--pool", "12"]
ROWS: dict[str, tuple[str, list[str]]] = {
    "bm25": ("BM25 alone (nearest training commands)", ["--decode", "bm25"]),
    "old": ("previous bundled model, sampled", ["--decode", "sample", "--retrieval-k", "0"]),
    "model": ("model alone, sampled", ["--decode", "sample", "--retrieval-k", "0"]),
    "rag": ("+ retrieval in the prompt (k=3)", ["--decode", "sample", "--retrieval-k", "3"]),
    "beam": ("+ beam search (5)", [*BEAM, "--pool", "0", *PLAIN, "--no-distinct"]),
    "pool": ("+ 12 retrieved commands in the pool", [*POOL, *PLAIN, "--no-distinct"]),
    "relevance": (
        "+ their BM25 relevance in the ranking",
        [*POOL, "--reviewer", "0", "--consensus", "0", "--no-distinct"],
    ),
    "reviewer": (
        "+ reviewer score, log p(request given command)",
        [*POOL, "--reviewer", "1", "--consensus", "0", "--no-distinct"],
    ),
    "consensus": ("+ agreement with the other candidates (MBR)", [*POOL, "--reviewer", "1", "--no-distinct"]),
    "distinct": ("+ distinct structures", [*POOL, "--reviewer", "1"]),
    "default": ("the same without the reviewer", [*POOL, "--reviewer", "0"]),
    "rerank": (
        "the default: the trained reranker instead of the hand-set weights",
        [*(f for f in POOL if f != "--no-rerank"), "--reviewer", "0", "--rerank"],
    ),
}
COLUMNS = (
    ("nlc2cmd", "NLC2CMD top-5"),
    ("nlc2cmd_top1", "NLC2CMD top-1"),
    ("nlc2cmd_official", "official top-5"),
    ("template_match", "template@1"),
    ("exact_match", "exact@1"),
    ("argument_f1", "arguments@1"),
    ("syntax_valid", "syntax@1"),
    ("pass_at_1", "exec pass@1"),
    ("pass_at_k", "exec pass@5"),
)


def run_row(name: str, model: str, suites: list[str], limit: int | None, candidates: int) -> dict[str, Any]:
    label, flags = ROWS[name]
    cmd = ["bash-ai", "eval", "--model", model, "--candidates", str(candidates), "--json", *flags]
    for suite in suites:
        cmd += ["--suite", suite]
    if limit:
        cmd += ["--limit", str(limit)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ablation row {name} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    (result,) = json.loads(done.stdout).values()
    return {"row": name, "label": label, "command": " ".join(cmd), "suites": result["suites"]}


def table(rows: list[dict[str, Any]]) -> str:
    suites = list(dict.fromkeys(s["suite"] for r in rows for s in r["suites"]))
    lines = []
    for suite in suites:
        present = [
            c for c in COLUMNS if any(s.get(c[0]) is not None for r in rows for s in r["suites"] if s["suite"] == suite)
        ]
        lines += [f"**{suite}**", "", "| row | " + " | ".join(label for _, label in present) + " | seconds |"]
        lines.append("|---|" + "---:|" * (len(present) + 1))
        for r in rows:
            for s in r["suites"]:
                if s["suite"] != suite:
                    continue
                cells = " | ".join(f"{s[k]:.3f}" if s.get(k) is not None else "–" for k, _ in present)
                lines.append(f"| {r['label']} | {cells} | {s['seconds']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--old-model", default=None, help="the previous bundled model, for the 'old' row")
    parser.add_argument("--suite", action="append", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--candidates", type=int, default=5)
    parser.add_argument("--rows", default=",".join(r for r in ROWS if r != "old"))
    parser.add_argument("--jobs", type=int, default=1, help="rows evaluated at once (one core each)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    names = [r for r in args.rows.split(",") if r]
    unknown = [r for r in names if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows: {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    if "old" in names and not args.old_model:
        parser.error("the 'old' row needs --old-model")
    suites = args.suite or ["nl2bash-dev"]

    def one(name: str) -> dict[str, Any]:
        model = args.old_model if name == "old" else args.model
        row = run_row(name, model, suites, args.limit, args.candidates)
        print(f"done: {name}", file=sys.stderr, flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, names))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
