"""The prompt format shared by training and inference.

A pair trains two directions, each with its own role markers:

    forward  <|request|> list files by size <|bash|> ls -S <|endoftext|>
    reverse  <|command|> ls -S <|explain|> list files by size <|endoftext|>

With retrieval, the k nearest training pairs come first, as worked examples, nearest last:

    <|request|> r3 <|bash|> c3 <|endoftext|> ... <|request|> r1 <|bash|> c1 <|endoftext|>
    <|request|> list files by size <|bash|> ls -S <|endoftext|>

With ``--targets hinted`` a pair also trains with its command's template (arguments abstracted) as
a hint between the request and the answer:

    <|request|> list files by size <|command|> ls -S <|bash|> ls -S <|endoftext|>

Scripts train as ``<|request|> leading comment <|bash|> script <|endoftext|>`` when they have a
leading comment block, else as ``<|bash|> script <|endoftext|>``; English text as
``text <|endoftext|>``. Only the answer (after ``<|bash|>`` / ``<|explain|>``) carries loss in pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# A short request ("list files sorted by size"): everyday requests mostly are (everyday-tune: 93%
# at most 8 words), NL2Bash's mostly are not (nl2bash-dev: 20%). The reranker's short columns and
# the answer path's checks read requests by this one measure.
SHORT_WORDS = 8


def is_short(request: str) -> bool:
    """Whether ``request`` has at most ``SHORT_WORDS`` words."""
    return len(request.split()) <= SHORT_WORDS


EOT = "<|endoftext|>"
REQUEST = "<|request|>"
BASH = "<|bash|>"
COMMAND = "<|command|>"
EXPLAIN = "<|explain|>"
PAD = "<|pad|>"

# Order fixes their ids: special tokens take the ids right after the base vocabulary.
SPECIAL_TOKENS: tuple[str, ...] = (EOT, REQUEST, BASH, COMMAND, EXPLAIN, PAD)


@dataclass(frozen=True)
class Segment:
    """A piece of text and whether the model is trained to produce it."""

    text: str
    target: bool


# What the model is asked at run time; each task's prompt is its opening marker, the text, and its
# closing marker (``complete`` has none: the model continues the typed line).
Task = Literal["ask", "explain", "complete"]
TASK_MARKERS: dict[Task, tuple[str, str | None]] = {
    "ask": (REQUEST, BASH),
    "explain": (COMMAND, EXPLAIN),
    "complete": (BASH, None),
}


def task_parts(task: Task, text: str) -> tuple[str, str, str | None]:
    """(opening marker, text, closing marker or None) of ``task``'s prompt: the one layout that
    training's pairs and the engine's token ids (``Engine.task_ids``) are both written from."""
    head, tail = TASK_MARKERS[task]
    return head, text if tail is None else text.strip(), tail


def task_prompt(task: Task, text: str) -> str:
    """``task``'s prompt as text (markers written out)."""
    head, body, tail = task_parts(task, text)
    return head + body + (tail or "")


def forward_pair(request: str, command: str) -> list[Segment]:
    return [Segment(task_prompt("ask", request), False), Segment(command.strip() + EOT, True)]


def retrieval_pair(request: str, command: str, neighbors: Sequence[tuple[str, str]]) -> list[Segment]:
    """A forward pair preceded by its neighbours ``(request, command)``, given best first."""
    return retrieval_context(neighbors) + forward_pair(request, command)


def retrieval_context(neighbors: Sequence[tuple[str, str]]) -> list[Segment]:
    """The worked examples, written nearest last (next to the request); never trained on."""
    out: list[Segment] = []
    for request, command in reversed(list(neighbors)):
        out += [Segment(task_prompt("ask", request), False), Segment(command.strip() + EOT, False)]
    return out


def hinted_parts(request: str, template: str) -> tuple[str, str, str, str, str]:
    """(marker, request, marker, template, marker): the prompt of a pair whose command's template
    (``bash_ai.templates``) is given, the one layout that training's hinted pairs and the engine's
    token ids (``Engine.hinted_ids``) are both written from. The model writes a command of that
    structure with the request's arguments (candidates from a structure model's templates)."""
    return REQUEST, request.strip(), COMMAND, template.strip(), BASH


def hinted_prompt(request: str, template: str) -> str:
    """``hinted_parts`` as text (markers written out)."""
    return "".join(hinted_parts(request, template))


def hinted_pair(request: str, command: str, template: str) -> list[Segment]:
    """A forward pair with its command's template as a hint (``hinted_parts``; in two segments, as
    only a segment's edge markers are special tokens in training)."""
    head, body, middle, hint, tail = hinted_parts(request, template)
    return [Segment(head + body + middle, False), Segment(hint + tail, False), Segment(command.strip() + EOT, True)]


def reverse_pair(request: str, command: str) -> list[Segment]:
    return [Segment(task_prompt("explain", command), False), Segment(request.strip() + EOT, True)]


def script(body: str, request: str | None = None) -> list[Segment]:
    head = task_prompt("ask", request) if request else BASH
    return [Segment(head, request is None), Segment(body.rstrip() + "\n" + EOT, True)]


def text(body: str) -> list[Segment]:
    return [Segment(body.strip() + EOT, True)]
