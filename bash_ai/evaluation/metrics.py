"""Evaluation metrics over generated commands: exact and template match, validity and danger
rates, and bits per byte for language-model loss.

:func:`normalize_ws` is whitespace-only on purpose: it collapses blanks *outside* quotes (inside
them they are part of an argument) and never touches quoting or operators, so ``ls|wc`` and
``ls | wc`` stay different for exact match. Template match (:mod:`.templates`) is the metric that
forgives spelling differences; NLC2CMD (:mod:`.nlc2cmd`) is the competition's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bash_ai.errors import UsageError
from bash_ai.safety import SEVERITY_RANK, assess, check_syntax_many
from bash_ai.templates import command_template, template_match

__all__ = [
    "bits_per_byte",
    "command_template",
    "danger_rate",
    "exact_match",
    "normalize_ws",
    "syntax_valid_rate",
    "template_match",
]


def normalize_ws(command: str) -> str:
    """Collapse runs of spaces/tabs outside quotes to one space; one command per line; trim.

    A backslash-newline outside quotes is a line continuation and becomes a space; blank lines
    and blanks at line ends go. Quoted text (``'a  b'``, ``"a  b"``) is kept byte for byte.
    """
    out: list[str] = []
    quote = ""
    i, n = 0, len(command)
    pending = ""  # whitespace seen outside quotes, emitted lazily
    while i < n:
        c = command[i]
        if quote:
            out.append(c)
            if c == "\\" and quote == '"' and i + 1 < n:
                out.append(command[i + 1])
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c == "\\" and i + 1 < n:
            if command[i + 1] == "\n":  # line continuation
                pending = pending or " "
            else:
                if pending and out:
                    out.append(pending)
                pending = ""
                out.append(command[i : i + 2])
            i += 2
            continue
        if c in " \t\r":
            pending = pending or " "
        elif c == "\n":
            pending = "\n"
        else:
            if pending and out:
                out.append(pending)
            pending = ""
            if c in "'\"":
                quote = c
            out.append(c)
        i += 1
    return "".join(out)


def exact_match(predicted: str, reference: str) -> bool:
    return normalize_ws(predicted) == normalize_ws(reference)


def syntax_valid_rate(candidates: Sequence[str]) -> float:
    """Share of candidates that ``bash -n`` accepts (0.0 for an empty list)."""
    if not candidates:
        return 0.0
    return sum(r.ok for r in check_syntax_many(list(candidates))) / len(candidates)


def danger_rate(candidates: Sequence[str], min_severity: str = "medium") -> float:
    """Share of candidates with at least one danger flag of ``min_severity`` or worse."""
    if min_severity not in SEVERITY_RANK:
        raise UsageError(f"min_severity must be one of {', '.join(SEVERITY_RANK)}, not {min_severity!r}")
    if not candidates:
        return 0.0
    worst = SEVERITY_RANK[min_severity]
    flagged = sum(any(SEVERITY_RANK[f.severity] <= worst for f in assess(c)) for c in candidates)
    return flagged / len(candidates)


def bits_per_byte(total_nll_nats: float, total_bytes: int) -> float:
    """Summed negative log-likelihood (nats) over the text's UTF-8 byte count -> bits per byte.

    Tokenizer-independent, so models with different vocabularies compare on the same scale.
    """
    if not math.isfinite(total_nll_nats) or total_nll_nats < 0:
        raise UsageError(f"total_nll_nats must be a finite, non-negative number, not {total_nll_nats!r}")
    if total_bytes <= 0:
        raise UsageError(f"total_bytes must be positive, not {total_bytes!r}")
    return total_nll_nats / (math.log(2) * total_bytes)
