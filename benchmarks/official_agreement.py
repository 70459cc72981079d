"""How closely ``nlc2cmd_official`` follows the competition's own scorer, example by example.

The official scorer is not ours and is not in this repository: point ``--clai`` at a checkout of
IBM/clai (branch ``nlc2cmd``; its ``submission-code/src`` is imported from there, in a separate
process, by ``--python``). Its Python dependencies are numpy and six; it predates Python 3.10, so this script
restores the ``collections`` aliases it expects before importing it.

    python benchmarks/official_agreement.py --clai ~/src/clai --predictions preds.jsonl

``preds.jsonl`` is what ``bash-ai eval --predictions`` writes. Ours reads commands by the
checkout's ``configs/core/grammar.txt`` (as ``bash-ai eval --official-grammar`` does; ``--no-grammar``:
by our own tables); ``--check-grammar`` first compares our reading of that file with the official
reader's, utility by utility. Prints per-pair and per-example agreement (within 0.01) and both
means; the last line is
``official mean X, ours Y (diff D); examples within 0.01: P%``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Runs inside the child: scores every (prediction, reference) pair with the official code.
_OFFICIAL = r"""
import collections, collections.abc, json, os, sys
for name in ("MutableSet", "Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    setattr(collections, name, getattr(collections.abc, name))
sys.path.insert(0, sys.argv[1])
sys.stdout, real = open(os.devnull, "w"), sys.stdout  # the grammar loader prints
from utils.metric_utils import compute_metric
sys.stdout = real
for line in sys.stdin:
    pred, ref, conf = json.loads(line)
    print(json.dumps(float(compute_metric(pred, conf, ref, {"u1": 1.0, "u2": 1.0}))), flush=True)
"""


# Runs inside the child: the official reader's view of its grammar, as JSON (flag -> argument
# places, then the positional places), to compare with ours.
_GRAMMAR = r"""
import collections, collections.abc, json, os, sys
for name in ("MutableSet", "Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    setattr(collections, name, getattr(collections.abc, name))
sys.path.insert(0, sys.argv[1])
sys.stdout, real = open(os.devnull, "w"), sys.stdout
from bashlint.grammar import bg
sys.stdout = real
def places(state):
    out = []
    while state is not None:
        kind = {"ArgCommandState": "command", "CommandState": "rest", "ExecCommandState": "exec"}.get(
            type(state).__name__, "value")
        repeats = kind == "value" and state.is_list and state.list_separator == " "
        out.append([kind, repeats, kind == "value" and state.no_space, list(getattr(state, "stop_tokens", []))])
        state = getattr(state, "rsb", None)
    return out
print(json.dumps({u: [{f: places(s.argument) for f, s in st.compound_flag.flag_index.items()},
                      [places(p)[0] for p in st.positional_arguments]] for u, st in bg.grammar.items()}))
"""


def check_grammar(python: str, src: Path, grammar_file: Path) -> None:
    """Our reading of grammar.txt against the official reader's, utility by utility."""
    from bash_ai.evaluation.official_grammar import Grammar

    proc = subprocess.run([python, "-c", _GRAMMAR, str(src)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"error: the official grammar reader failed: {proc.stderr.strip().splitlines()[-1:]}")
    theirs = json.loads(proc.stdout)
    ours = Grammar.read(grammar_file).utilities

    def view(slot) -> list:
        return [slot.kind, slot.repeats, slot.attached_only, list(slot.stops)]

    differ = sorted(set(theirs) ^ set(ours))
    for name in sorted(set(theirs) & set(ours)):
        flags, positional = theirs[name]
        mine = ours[name]
        if flags != {f: [view(p) for p in slots] for f, slots in mine.flags.items()} or positional != [
            view(p) for p in mine.positional
        ]:
            differ.append(name)
    print(f"grammar: {len(theirs)} utilities, ours read {len(ours)}; differing: {', '.join(differ) or 'none'}")


def official_scores(python: str, src: Path, pairs: list[tuple[str, str, float]]) -> list[float]:
    payload = "".join(json.dumps(p) + "\n" for p in pairs)
    proc = subprocess.run(
        [python, "-c", _OFFICIAL, str(src)], input=payload, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"error: the official scorer failed: {proc.stderr.strip().splitlines()[-1:]}")
    return [float(x) for x in proc.stdout.split()]


def _aggregate(scores: list[float]) -> float:
    if not scores:
        return -1.0
    return max(scores) if any(s > 0 for s in scores) else sum(scores) / len(scores)


def main() -> None:
    from bash_ai.evaluation.nlc2cmd_official import official_score, official_topk
    from bash_ai.evaluation.official_grammar import Grammar

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clai", type=Path, required=True, help="checkout of IBM/clai, branch nlc2cmd")
    parser.add_argument("--predictions", type=Path, required=True, help="bash-ai eval --predictions output")
    parser.add_argument("--python", default=sys.executable, help="interpreter with numpy and six installed")
    parser.add_argument("--calibrated", action="store_true", help="use the predictions' confidences")
    parser.add_argument("--check-grammar", action="store_true", help="also compare our reading of grammar.txt")
    parser.add_argument(
        "--no-grammar", action="store_true", help="score ours by our own tables, not by the checkout's grammar.txt"
    )
    args = parser.parse_args()
    src = args.clai / "submission-code" / "src"
    if not (src / "utils" / "metric_utils.py").is_file():
        sys.exit(f"error: {src} has no utils/metric_utils.py (is it the nlc2cmd branch?)")
    grammar_file = args.clai / "submission-code" / "configs" / "core" / "grammar.txt"
    if args.check_grammar:
        check_grammar(args.python, src, grammar_file)
    grammar = None if args.no_grammar else Grammar.read(grammar_file)
    rows = [json.loads(line) for line in args.predictions.read_text(encoding="utf-8").splitlines() if line]
    pairs, owners = [], []
    for i, row in enumerate(rows):
        confidences = row["confidences"] if args.calibrated else [1.0] * len(row["predictions"])
        for pred, conf in zip(row["predictions"], confidences, strict=True):
            if pred:  # the official evaluation skips empty predictions
                pairs.append((pred, row["reference"], float(conf)))
                owners.append(i)
    theirs = official_scores(args.python, src, pairs)
    per_example: list[list[float]] = [[] for _ in rows]
    pair_ok = 0
    for (pred, ref, conf), owner, score in zip(pairs, owners, theirs, strict=True):
        per_example[owner].append(score)
        pair_ok += abs(official_score(pred, ref, conf, grammar) - score) <= 0.01
    official = [_aggregate(s) for s in per_example]
    ours = [
        official_topk(r["predictions"], r["reference"], r["confidences"] if args.calibrated else None, grammar)
        for r in rows
    ]
    example_ok = sum(abs(a - b) <= 0.01 for a, b in zip(official, ours, strict=True))
    mean_official, mean_ours = sum(official) / len(rows), sum(ours) / len(rows)
    print(f"pairs: {len(pairs)}, within 0.01: {pair_ok / max(1, len(pairs)):.1%}")
    print(
        f"official mean {mean_official:.4f}, ours {mean_ours:.4f} (diff {mean_ours - mean_official:+.4f}); "
        f"examples within 0.01: {example_ok / len(rows):.1%}"
    )


if __name__ == "__main__":
    main()
