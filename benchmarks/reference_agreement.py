"""How high NLC2CMD can go on our evaluation splits: the references measured against each other.

Two ceilings that no model trained on our data can pass, whatever its size:

* **NL2Bash: two people, one request.** NL2Bash's annotators wrote commands for the same English
  request more than once (``all.nl`` / ``all.cm`` of the data pack, before the split drops repeated
  pairs). Every ordered pair of commands written for one request is scored with ``nlc2cmd_score``
  (one as the prediction, the other as the reference): the top-1 score a second annotator gets.
  Then the fixed split itself: the test (dev) requests whose exact words are also a training
  request. The split moved every evaluation pair whose command occurs in train into train, so those
  requests' training commands are by construction not their references; a system that learnt train
  perfectly answers with them. With ``--predictions`` (a ``bash-ai eval --predictions`` file), the
  model's own top-1 and top-5 on those requests and on the rest.
* **tldr-holdout: programs never seen.** The holdout is whole tldr pages, so most references run a
  program that no training command runs. A system that writes only programs it has seen (the
  model's retrieval index holds every training command) or that the request names scores -1 at
  each position it cannot know; the mean over the suite with every other position right is the
  bound on its top-5.

    python benchmarks/reference_agreement.py [--pack ../shared/data] [--model assets/model]
        [--predictions preds.jsonl]

Needs the ``tldr`` dataset fetched (``bash-ai data fetch tldr --from ...``) for the second part.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bash_ai.nlc2cmd import nlc2cmd_score, utility_flags
from trainer.data.sources.nl2bash import read_lines

ROOT = Path(__file__).resolve().parents[1]


def request_key(text: str) -> str:
    """A request's words, lower-cased: "Find all *.txt files." and "find all *.txt files" agree."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def same_request_pairs(requests: Sequence[str], commands: Sequence[str]) -> list[float]:
    """``nlc2cmd_score(a, b)`` for every ordered pair of commands written for one request."""
    by_request: dict[str, list[str]] = defaultdict(list)
    for request, command in zip(requests, commands, strict=True):
        if request.strip() and command.strip():
            by_request[request_key(request)].append(command.strip())
    return [
        nlc2cmd_score(a, b)
        for written in by_request.values()
        for i, a in enumerate(written)
        for j, b in enumerate(written)
        if i != j
    ]


def known_program_bound(references: Sequence[str], requests: Sequence[str], known: set[str]) -> float:
    """The mean NLC2CMD of the best answers a system can write with ``known`` programs (and those
    its request names): each reference's positions right where the program is known, -1 where not."""
    scores = []
    for reference, request in zip(references, requests, strict=True):
        programs = [program for program, _ in utility_flags(reference)]
        if not programs:
            continue
        words = set(re.findall(r"[\w.+-]+", request.lower()))
        scores.append(sum(1.0 if p in known or p in words else -1.0 for p in programs) / len(programs))
    return statistics.mean(scores)


def _mean(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.3f}" if values else "-"


def nl2bash_part(pack: Path, predictions: Path | None) -> None:
    folder = pack / "nl2bash"
    scores = same_request_pairs(read_lines(folder / "all.nl"), read_lines(folder / "all.cm"))
    positive = sum(s > 0 for s in scores) / len(scores)
    perfect = sum(s >= 1.0 for s in scores) / len(scores)
    print(
        f"NL2Bash, one request written twice: {len(scores)} ordered command pairs, NLC2CMD mean {_mean(scores)}"
        f" (above 0: {positive:.1%}, 1.0: {perfect:.1%})"
    )
    train: dict[str, list[str]] = defaultdict(list)
    for request, command in zip(read_lines(folder / "train.nl"), read_lines(folder / "train.cm"), strict=True):
        train[request_key(request)].append(command.strip())
    model: dict[tuple[str, int], dict] = {}  # (suite, the example's line in its split) -> its row
    if predictions is not None:
        for line in predictions.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["suite"].startswith("nl2bash-"):
                model[(row["suite"], int(row["id"].rsplit(":", 1)[1]))] = row
    for split in ("dev", "test"):
        requests, references = read_lines(folder / f"{split}.nl"), read_lines(folder / f"{split}.cm")
        seen = [(r, ref) for r, ref in zip(requests, references, strict=True) if request_key(r) in train]
        mean = [statistics.mean(nlc2cmd_score(c, ref) for c in train[request_key(r)]) for r, ref in seen]
        best = [max(nlc2cmd_score(c, ref) for c in train[request_key(r)]) for r, ref in seen]
        print(
            f"nl2bash-{split}: {len(seen)} of {len(requests)} requests are also training requests;"
            f" their training commands score {_mean(mean)} (the best of them {_mean(best)})"
        )
        rows = [model.get((f"nl2bash-{split}", line)) for line in range(len(requests))]
        if predictions is None or not all(rows):
            continue
        if any(row["request"].strip() != r.strip() for row, r in zip(rows, requests, strict=True)):  # type: ignore[index]
            raise SystemExit(f"error: {predictions} was not made from this pack's nl2bash-{split} split")
        keys = {request_key(r) for r, _ in seen}
        for label, chosen in (
            ("also in train", [row for row in rows if row and request_key(row["request"]) in keys]),
            ("the others", [row for row in rows if row and request_key(row["request"]) not in keys]),
        ):
            print(
                f"  the model on {label} ({len(chosen)}): top-5 {_mean([r['nlc2cmd'] for r in chosen])},"
                f" top-1 {_mean([r['nlc2cmd_top1'] for r in chosen])}"
            )


def tldr_part(model: Path) -> None:
    from bash_ai.model_files import INDEX_FILE
    from bash_ai.retrieval.index import RetrievalIndex
    from trainer.data.suites import load_suite

    index = RetrievalIndex.load(model / INDEX_FILE)
    known = {program for row in range(len(index)) for program, _ in utility_flags(index.commands[row])}
    examples = load_suite("tldr-holdout")
    references = [e.reference for e in examples]
    requests = [e.request for e in examples]
    first = [utility_flags(r) for r in references]
    seen_first = sum(bool(f) and f[0][0] in known for f in first) / len(examples)
    print(
        f"tldr-holdout: {len(examples)} requests; the first program of {seen_first:.1%} of references occurs in"
        f" the {len(index)} training commands; bound on top-5 with seen or named programs"
        f" {known_program_bound(references, requests, known):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", type=Path, default=ROOT.parent / "shared" / "data", help="the data pack")
    parser.add_argument("--model", type=Path, default=ROOT / "assets" / "model", help="its index: the seen programs")
    parser.add_argument("--predictions", type=Path, help="a bash-ai eval --predictions file (nl2bash suites)")
    parser.add_argument("--part", choices=("all", "nl2bash", "tldr"), default="all")
    args = parser.parse_args()
    if args.part in ("all", "nl2bash"):
        nl2bash_part(args.pack, args.predictions)
    if args.part in ("all", "tldr"):
        tldr_part(args.model)


if __name__ == "__main__":
    main()
