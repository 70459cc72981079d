"""The NLC2CMD competition score (NeurIPS 2020; Agarwal et al. 2021, "NLC2CMD Competition:
Translating Natural Language to Bash Commands").

Per prediction ``p`` against reference ``r``, with the utilities of each in order of occurrence
(padded to T = the longer list) and F the flag sets of the i-th utilities::

    S_F = (2 |F_p ∩ F_r| - |F_p ∪ F_r|) / max(1, |F_p|, |F_r|)      (1.0 when both are empty)
    S(p) = (1/T) Σ_i  c · ( I[U_p,i = U_r,i] · (1 + S_F) / 2  -  I[U_p,i ≠ U_r,i] )

so each position scores in [-1, 1]: 1 for the right utility with the right flags, 1/2 for the
right utility with half-overlapping flags, -1 for a wrong or missing utility. ``c`` is the
prediction's confidence; we always use 1.0 (our model does not report a calibrated one). Over the
top-k predictions of one example the competition took the best score if any is positive, else the
mean (so a list of only wrong answers is not rescued by its least bad one): :func:`nlc2cmd_topk`.

The competition parsed commands with bashlint (the NL2Bash grammar). We use our own parser; the
differences are documented choices, each tested:
- utilities: in order of occurrence, pre-order: a command, then the commands it nests
  (``$( )``, ``xargs CMD``, ``sudo CMD``, ``find -exec CMD``); wrappers count as utilities
  themselves; ``bash -c '...'`` strings are arguments, as in bashlint; names are lowercased
  basenames;
- flags: combined short flags are split (``-la`` -> ``-l -a``), which reproduces the official
  worked example ``find / -EXdsx -name linux`` = 0.1666; ``find``'s own long predicates
  (``-name``, ``-type``, ``-exec``) stay whole and their arguments (``-mtime -3``) are not flags;
  ``--opt=value`` counts as ``--opt``; splitting stops at the first non-letter (``-n5`` -> ``-n``);
  a numeric flag (``head -5``) stays whole;
- each utility's flags are its own: bashlint also credited a ``find -exec`` body's or an
  ``xargs`` command's flags to the outer utility.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from bash_ai.errors import UsageError
from bash_ai.safety.commands import invocations
from bash_ai.safety.shell import parse


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# find's predicates, options and operators that are single-dash long words.
FIND_WORDS = _words(
    """-name -iname -path -ipath -wholename -iwholename -regex -iregex -lname -ilname -type -xtype -size
    -perm -user -group -uid -gid -mtime -mmin -atime -amin -ctime -cmin -newer -anewer -cnewer -used
    -maxdepth -mindepth -links -inum -samefile -fstype -printf -fprint -fprint0 -fprintf -fls -context
    -regextype -files0-from -exec -execdir -ok -okdir -print -print0 -delete -ls -prune -quit -depth
    -xdev -mount -follow -daystart -nouser -nogroup -empty -true -false -readable -writable -executable
    -noleaf -ignore_readdir_race -noignore_readdir_race -warn -nowarn -not -and -or -o -a -help -version"""
)
FIND_WITH_ARGUMENT = _words(
    """-name -iname -path -ipath -wholename -iwholename -regex -iregex -lname -ilname -type -xtype -size
    -perm -user -group -uid -gid -mtime -mmin -atime -amin -ctime -cmin -newer -anewer -cnewer -used
    -maxdepth -mindepth -links -inum -samefile -fstype -printf -fprint -fprint0 -fprintf -fls -context
    -regextype -files0-from"""
)
# Programs whose options are single-dash words (java -jar, gcc -Wall): never split.
SINGLE_DASH_LONG = _words("""java javac gcc g++ cc clang clang++ openssl ffmpeg ffprobe convert magick mogrify""")
# A command's programs and flags, in order of occurrence (what ``utility_flags`` returns).
Parsed = Sequence[tuple[str, frozenset[str]]]
_NUMERIC = re.compile(r"[-+]\d+[a-zA-Z]?")


def _flags(utility: str, args: Sequence[str]) -> frozenset[str]:
    out: set[str] = set()
    skip = False
    for value in args:
        if skip:
            skip = False
            continue
        if value == "--":
            break
        if len(value) < 2 or value[0] != "-":
            continue
        if utility == "find":
            if value in FIND_WORDS:
                out.add(value)
                skip = value in FIND_WITH_ARGUMENT
                continue
            if _NUMERIC.fullmatch(value):
                continue  # -mtime -3: an argument
        elif utility in SINGLE_DASH_LONG:
            out.add(value.split("=", 1)[0])
            continue
        if value.startswith("--"):
            out.add(value.split("=", 1)[0])
        elif value[1].isdigit():
            out.add(value)
        else:
            for ch in value[1:]:
                if not ch.isalpha():
                    break
                out.add("-" + ch)
    return frozenset(out)


def utility_flags(command: str) -> list[tuple[str, frozenset[str]]]:
    """The (utility, flags) of every program ``command`` runs, in order of occurrence."""
    return list(_utility_flags(command))


@functools.lru_cache(maxsize=4096)
def _utility_flags(command: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """``utility_flags``, remembered: one answer reads its candidates several times (reranker
    features, agreement, covering), and parsing is most of the answer's time after the model's."""
    return tuple(
        (inv.utility.lower(), _flags(inv.utility, inv.values))
        for inv in invocations(parse(command), unwrap=True, exec_bodies=True, c_strings=False)
        if inv.utility
    )


def parsed_structure(parsed: Parsed) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A parsed command's programs with their flags sorted: hashable, equal for commands that differ
    only in arguments (``ls -S a`` ~ ``ls -S b``)."""
    return tuple((utility, tuple(sorted(flags))) for utility, flags in parsed)


def flag_score(predicted: frozenset[str], reference: frozenset[str]) -> float:
    """S_F in [-1, 1]; 1.0 when neither side has flags."""
    if not predicted and not reference:
        return 1.0
    both = len(predicted & reference)
    either = len(predicted | reference)
    return (2 * both - either) / max(1, len(predicted), len(reference))


def nlc2cmd_score(predicted: str, reference: str, confidence: float = 1.0) -> float:
    """S(p) in [-1, 1] for one prediction (0.0 when neither command runs any program)."""
    return parsed_score(utility_flags(predicted), utility_flags(reference), confidence)


def parsed_score(pred: Parsed, ref: Parsed, confidence: float = 1.0) -> float:
    """``nlc2cmd_score`` of two commands already parsed by ``utility_flags`` (parse once, score many)."""
    total = max(len(pred), len(ref))
    if total == 0:
        return 0.0
    score = 0.0
    for i in range(total):
        p_util, p_flags = pred[i] if i < len(pred) else (None, frozenset[str]())
        r_util, r_flags = ref[i] if i < len(ref) else (None, frozenset[str]())
        if p_util is not None and p_util == r_util:
            score += confidence * (1.0 + flag_score(p_flags, r_flags)) / 2.0
        else:
            score -= confidence
    return score / total


def nlc2cmd_topk(predictions: Sequence[str], reference: str, confidences: Sequence[float] | None = None) -> float:
    """One example's score over its top-k predictions: the best if any is positive, else the mean."""
    if not predictions:
        raise UsageError("nlc2cmd_topk needs at least one prediction")
    if confidences is None:
        confidences = [1.0] * len(predictions)
    if len(confidences) != len(predictions):
        raise UsageError("nlc2cmd_topk: one confidence per prediction")
    scores = [nlc2cmd_score(p, reference, c) for p, c in zip(predictions, confidences, strict=True)]
    return max(scores) if any(s > 0 for s in scores) else sum(scores) / len(scores)


def nlc2cmd_accuracy(predictions: Sequence[Sequence[str]], references: Sequence[str]) -> float:
    """The competition's accuracy: the mean of :func:`nlc2cmd_topk` over examples."""
    if len(predictions) != len(references) or not references:
        raise UsageError("nlc2cmd_accuracy needs one non-empty prediction list per reference")
    return sum(nlc2cmd_topk(p, r) for p, r in zip(predictions, references, strict=True)) / len(references)
