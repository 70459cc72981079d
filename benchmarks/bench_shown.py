"""Cost of the shown-command path: each proposal shaped, settled for the request and checked for what
the request did not ask for (``answer.distinct_commands`` and ``answer.unasked``), on the same pools.

    python benchmarks/bench_shown.py [--rounds 20] [--repeats 3] [--against CHECKOUT]

The pools are proposed once by the bundled model (the ten requests of ``bench_decode --part
propose`` and three more that the settle rewrites change) and stored in a temporary file; each
repeat times ``--rounds`` passes over all of them in a fresh process, in this checkout and, with
``--against``, in the other one (its ``bash_ai`` first on ``PYTHONPATH``), alternately: the peer is the
same path as it was written there. Medians are per answer, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_decode import PROPOSE_REQUESTS  # noqa: E402

MORE = ("search for the word error in server.log", "kill the process with pid 1234", "show running processes")

# Run in a fresh process: time the path over the pickled pools, print the median ms per answer.
# Each answer starts with its candidates unparsed: a parse cache (``intent._parsed``, where the
# checkout has one) is emptied before it, or the rounds after the first would find them all parsed.
_TIMER = r"""
import pickle, statistics, sys, time
from bash_ai.answer import distinct_commands, unasked
from bash_ai.safety import intent
pools = pickle.load(open(sys.argv[1], "rb"))
rounds = int(sys.argv[2])
forget = getattr(intent._parsed, "cache_clear", lambda: None)
for request, pool in pools.items():  # lazy imports first
    unasked(request, list(distinct_commands(pool, False, request)))
per_answer = []
for _ in range(rounds):
    spent = 0.0
    for request, pool in pools.items():
        forget()
        start = time.perf_counter()
        unasked(request, list(distinct_commands(pool, False, request)))
        spent += time.perf_counter() - start
    per_answer.append(spent / len(pools) * 1e3)
print(statistics.median(per_answer))
"""


def timed(checkout: Path, pools: Path, rounds: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", _TIMER, str(pools), str(rounds)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"error: {checkout}: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to time on the same pools")
    args = parser.parse_args()
    if args.against is not None and not (args.against / "bash_ai" / "answer.py").is_file():
        raise SystemExit(f"error: {args.against} is not a bash-ai checkout")

    from bash_ai.engine.propose import propose
    from bash_ai.registry import load

    engine = load("bundled")
    pools = {request: propose(engine, request) for request in dict.fromkeys([*PROPOSE_REQUESTS, *MORE])}
    size = sum(len(p) for p in pools.values()) / len(pools)
    with tempfile.TemporaryDirectory() as tmp:
        stored = Path(tmp) / "pools.pkl"
        stored.write_bytes(pickle.dumps(pools))
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(timed(REPO, stored, args.rounds))
            if args.against is not None:
                theirs.append(timed(args.against.resolve(), stored, args.rounds))
    print(f"{len(pools)} requests, {size:.1f} proposals each; median ms per answer of {args.rounds} rounds:")
    print(f"  this checkout  {' '.join(f'{t:.2f}' for t in ours)}")
    if theirs:
        print(f"  {args.against}  {' '.join(f'{t:.2f}' for t in theirs)} (peer)")


if __name__ == "__main__":
    main()
