"""Warm shell key: time from the key's handler call to the new line, with `bash-ai shell-helper` running.

    python benchmarks/bench_shell_key.py [--model assets/model] [--presses 5] [--rounds 6]
    python benchmarks/bench_shell_key.py --peer /path/to/older/checkout  # the same, side by side
    python benchmarks/bench_shell_key.py --matmul bf16 --peer-matmul fp32  # one checkout, two runtimes
    python benchmarks/bench_shell_key.py --ahead [--pauses 0,100,200,400,800] [--typing-ms 150]

Real parts only: a helper process (``python -m bash_ai shell-helper``, one-thread BLAS as it loads
numpy), and real bash running the snippet of ``bash-ai shell-init bash`` (its ``bind`` line left
out: bash runs non-interactively). Each press is the handler's own call, ``new=$(__bash_ai_warm
"$LINE")``: the subshell, base64, the /dev/tcp round trip and the answer, timed in bash with
``$EPOCHREALTIME`` (no fork). One press per request first warms the helper up and is not counted.
The helpers keep no answers (``--keep 0``), so each press is answered anew.

With ``--peer DIR`` a second helper runs from that checkout (its ``bash_ai`` package, the same
model), and the two alternate round by round; only one helper runs at a time. ``--matmul`` and
``--peer-matmul`` pass ``shell-helper --matmul`` to either side (a ``--peer-matmul`` without
``--peer`` makes this checkout its own peer). Helpers use a
private data directory (``XDG_DATA_HOME``), so a helper the user is running is left alone.
With ``--ahead``, real zsh runs the snippet of ``bash-ai shell-init zsh`` instead (its ZLE lines left
out: zsh runs non-interactively) and types each request as a user would: one character every
``--typing-ms``, each new line handed to ``__bash_ai_ahead`` as the ZLE hook does, then a pause of
``--pauses`` milliseconds, then the key, timed as above. A fresh helper serves each pass over the
ten requests (it keeps every line it answered, so a second press of the same line would find it
answered); its first, untimed answer is of another line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_decode import PROPOSE_REQUESTS

ROOT = Path(__file__).resolve().parents[1]

REQUESTS = PROPOSE_REQUESTS  # the ten typical requests bench_decode --part propose answers

# Times ``presses`` handler calls for each request (after one untimed call), one line per request:
# "ms ms ms ...". The snippet is read from $1, the requests from the remaining arguments.
_PRESSES = r"""
eval "$(grep -v '^bind ' "$1")"
shift
presses=$1
shift
for line in "$@"; do
  __bash_ai_warm "$line" >/dev/null 2>&1
  times=()
  for ((i = 0; i < presses; i++)); do
    start=$EPOCHREALTIME
    new=$(__bash_ai_warm "$line" 2>/dev/null) || { echo "error: no answer for: $line" >&2; exit 1; }
    end=$EPOCHREALTIME
    times+=($(( (${end/./} - ${start/./}) / 1000 )))
  done
  echo "${times[*]}"
done
"""


# Types each request (from the fourth argument on) into $BUFFER one character every $3 hundredths
# of a second, calling the ZLE hook's function after each, pauses $2 hundredths, then times the key's
# call: one line of milliseconds per request. The snippet is read from $1.
_TYPED = r"""
zmodload zsh/datetime zsh/zselect
eval "$(grep -v -e '^bindkey ' -e '^zle -N ' -e 'add-zle-hook-widget' "$1")"
pause=$2 typing=$3
shift 3
__bash_ai_warm "warm up the helper with this line" >/dev/null 2>&1
for line in "$@"; do
  for ((i = 1; i <= ${#line}; i++)); do
    BUFFER=${line[1,i]}
    __bash_ai_ahead
    (( typing > 0 )) && zselect -t $typing
  done
  (( pause > 0 )) && zselect -t $pause
  start=$EPOCHREALTIME
  new=$(__bash_ai_warm "$line" 2>/dev/null) || { print -u2 "error: no answer for: $line"; exit 1 }
  end=$EPOCHREALTIME
  printf '%.0f\n' $(( (end - start) * 1000 ))
done
"""


def _shell_output(argv: list[str], env: dict[str, str]) -> str:
    """What a shell script (``argv``) prints; its error, or a line naming the shell, ends the run."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip() or f"error: {argv[0]} failed")
    return done.stdout


def typed(snippet: Path, pause_ms: int, typing_ms: int, env: dict[str, str]) -> list[int]:
    """Milliseconds from the key to the new line per request, typed and paused as a user would."""
    argv = ["zsh", "-f", "-c", _TYPED, "bench", str(snippet), str(pause_ms // 10), str(typing_ms // 10), *REQUESTS]
    return [int(x) for x in _shell_output(argv, env).split()]


def ahead(model: str, pauses: list[int], typing_ms: int, rounds: int) -> None:
    """The ``--ahead`` table: per pause before the key, the key's median and how many within 0.1 s.
    A pause of -1 is the snippet of ``shell-init zsh --no-ahead`` (nothing sent while typing), no pause."""
    with tempfile.TemporaryDirectory() as data_home:
        env = {**os.environ, "XDG_DATA_HOME": data_home}
        sent = write_snippet(Path(data_home) / "ahead.zsh", env, "zsh", "--ahead")
        # Without the hook, the typing loop's call of it does nothing.
        unsent = write_snippet(
            Path(data_home) / "no-ahead.zsh", env, "zsh", "--no-ahead", extra="__bash_ai_ahead() { :; }\n"
        )
        results: dict[int, list[list[int]]] = {p: [[] for _ in REQUESTS] for p in pauses}
        for _ in range(rounds):
            for pause in pauses:
                with running_helper(ROOT, model, env):
                    for i, ms in enumerate(typed(unsent if pause < 0 else sent, max(pause, 0), typing_ms, env)):
                        results[pause][i].append(ms)
    names = ["not sent ahead" if p < 0 else f"{p} ms" for p in pauses]
    print("| pause before the key | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(pauses))
    for i, request in enumerate(REQUESTS):
        print(f"| `{request}` | " + " | ".join(f"{statistics.median(results[p][i]):.0f}" for p in pauses) + " |")
    medians = {p: [statistics.median(r) for r in results[p]] for p in pauses}
    print("| median of medians | " + " | ".join(f"**{statistics.median(medians[p]):.0f}**" for p in pauses) + " |")
    print("| requests <= 100 ms | " + " | ".join(f"{sum(m <= 100 for m in medians[p])}/10" for p in pauses) + " |")
    print(f"\nzsh, one character every {typing_ms} ms, {rounds} rounds (a fresh helper per pause and round)")


def write_snippet(where: Path, env: dict[str, str], *args: str, extra: str = "") -> Path:
    """This checkout's ``bash-ai shell-init ARGS`` (and ``extra``) written to ``where``."""
    init = subprocess.run(
        [sys.executable, "-m", "bash_ai", "shell-init", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    where.write_text(init.stdout + extra)
    return where


@contextlib.contextmanager
def running_helper(
    checkout: Path, model: str, env: dict[str, str], matmul: str | None = None, keep: bool = True
) -> Iterator[subprocess.Popen[str]]:
    """``start_helper``'s helper, stopped when the block ends."""
    helper = start_helper(checkout, model, env, matmul, keep)
    try:
        yield helper
    finally:
        helper.terminate()
        helper.wait(timeout=10)


def _model_arg(value: str) -> str:
    """A directory as an absolute path: the helpers run from the temp directory."""
    return str(Path(value).resolve()) if Path(value).is_dir() else value


def start_helper(
    checkout: Path, model: str, env: dict[str, str], matmul: str | None = None, keep: bool = True
) -> subprocess.Popen[str]:
    """A shell helper from ``checkout``'s ``bash_ai``; returns once it says it is ready. ``keep``
    False: it answers every press anew (``--keep 0``; a helper older than that option kept nothing)."""
    child_env = {**env, "PYTHONPATH": str(checkout)}
    argv = [
        sys.executable,
        "-m",
        "bash_ai",
        "shell-helper",
        "--model",
        model,
        *(["--matmul", matmul] if matmul else []),
    ]
    if not keep:
        usage = subprocess.run(
            [sys.executable, "-m", "bash_ai", "shell-helper", "--help"],
            cwd=tempfile.gettempdir(),  # as below: PYTHONPATH decides which bash_ai answers
            env=child_env,
            capture_output=True,
            text=True,
            check=False,
        )
        argv += ["--keep", "0"] if "--keep" in usage.stdout else []
    helper = subprocess.Popen(
        argv,
        cwd=tempfile.gettempdir(),  # not the repo root, so PYTHONPATH decides which bash_ai loads
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert helper.stderr is not None
    line = helper.stderr.readline()
    if "ready" not in line:
        helper.kill()
        raise SystemExit(f"error: the helper from {checkout} did not start: {line.strip() or 'no output'}")
    return helper


def presses(snippet: Path, count: int, env: dict[str, str]) -> list[list[int]]:
    """Milliseconds of ``count`` key presses per request, in ``REQUESTS`` order."""
    out = _shell_output(["bash", "-c", _PRESSES, "bench", str(snippet), str(count), *REQUESTS], env)
    return [[int(x) for x in line.split()] for line in out.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", type=_model_arg, default=str(ROOT / "assets" / "model"), help="a model name or directory"
    )
    parser.add_argument("--presses", type=int, default=5)
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="rounds alternate the helpers: more, shorter rounds even out a noisy machine",
    )
    parser.add_argument("--peer", type=Path, help="an older checkout whose helper runs alternately")
    parser.add_argument("--matmul", help="this checkout's helper: shell-helper --matmul (default: its own)")
    parser.add_argument("--peer-matmul", help="the peer's helper: shell-helper --matmul")
    parser.add_argument("--ahead", action="store_true", help="zsh typing each request: the line answered ahead")
    parser.add_argument(
        "--pauses", default="-1,0,100,200,400,800", help="--ahead: milliseconds between typing and key (-1: not sent)"
    )
    parser.add_argument("--typing-ms", type=int, default=150, help="--ahead: milliseconds per typed character")
    args = parser.parse_args()
    if args.ahead:
        ahead(args.model, [int(p) for p in args.pauses.split(",")], args.typing_ms, args.rounds)
        return
    if args.peer_matmul and not args.peer:
        args.peer = ROOT
    label = {"this checkout": args.matmul, "peer": args.peer_matmul}

    with tempfile.TemporaryDirectory() as data_home:
        env = {**os.environ, "XDG_DATA_HOME": data_home}
        snippet = write_snippet(Path(data_home) / "snippet.bash", env, "bash")
        sides = {"this checkout": ROOT} | ({"peer": args.peer.resolve()} if args.peer else {})
        matmuls = {"this checkout": args.matmul, "peer": args.peer_matmul}
        results: dict[str, list[list[int]]] = {name: [[] for _ in REQUESTS] for name in sides}
        for _ in range(args.rounds):
            for name, checkout in sides.items():
                with running_helper(checkout, args.model, env, matmuls[name], keep=False):  # no press answered twice
                    for i, ms in enumerate(presses(snippet, args.presses, env)):
                        results[name][i] += ms
                time.sleep(0.5)

    names = list(sides)
    header = " | ".join(f"{n}{f' ({label[n]})' if label[n] else ''} median / max ms" for n in names)
    print(f"| line | {header} |" + (" peer / this |" if args.peer else ""))
    print("|---|" + "---:|" * (len(names) + (1 if args.peer else 0)))
    medians: dict[str, list[float]] = {n: [] for n in names}
    for i, request in enumerate(REQUESTS):
        cells = []
        for n in names:
            times = results[n][i]
            medians[n].append(statistics.median(times))
            cells.append(f"{statistics.median(times):.0f} / {max(times)}")
        ratio = f" {medians['peer'][i] / medians['this checkout'][i]:.2f}x |" if args.peer else ""
        print(f"| `{request}` | " + " | ".join(cells) + " |" + ratio)
    summary = ", ".join(
        f"{n}: median of medians {statistics.median(medians[n]):.0f} ms, "
        f"{sum(m <= 100 for m in medians[n])}/{len(REQUESTS)} requests <= 100 ms"
        for n in names
    )
    print(f"\n{args.presses} presses x {args.rounds} rounds per request; {summary}")


if __name__ == "__main__":
    main()
