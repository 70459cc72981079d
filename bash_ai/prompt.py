"""The prompt format shared by training and inference.

A pair trains two directions, each with its own role markers:

    forward  <|request|> list files by size <|bash|> ls -S <|endoftext|>
    reverse  <|command|> ls -S <|explain|> list files by size <|endoftext|>

With retrieval, the k nearest training pairs come first, as worked examples, nearest last:

    <|request|> r3 <|bash|> c3 <|endoftext|> ... <|request|> r1 <|bash|> c1 <|endoftext|>
    <|request|> list files by size <|bash|> ls -S <|endoftext|>

Scripts train as ``<|request|> leading comment <|bash|> script <|endoftext|>`` when they have a
leading comment block, else as ``<|bash|> script <|endoftext|>``; English text as
``text <|endoftext|>``. Only the answer (after ``<|bash|>`` / ``<|explain|>``) carries loss in pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def forward_pair(request: str, command: str) -> list[Segment]:
    return [Segment(REQUEST + request.strip() + BASH, False), Segment(command.strip() + EOT, True)]


def retrieval_pair(request: str, command: str, neighbors: Sequence[tuple[str, str]]) -> list[Segment]:
    """A forward pair preceded by its neighbours ``(request, command)``, given best first."""
    return retrieval_context(neighbors) + forward_pair(request, command)


def retrieval_context(neighbors: Sequence[tuple[str, str]]) -> list[Segment]:
    """The worked examples, written nearest last (next to the request); never trained on."""
    out: list[Segment] = []
    for request, command in reversed(list(neighbors)):
        out += [Segment(REQUEST + request.strip() + BASH, False), Segment(command.strip() + EOT, False)]
    return out


def reverse_pair(request: str, command: str) -> list[Segment]:
    return [Segment(COMMAND + command.strip() + EXPLAIN, False), Segment(request.strip() + EOT, True)]


def script(body: str, request: str | None = None) -> list[Segment]:
    head = (REQUEST + request.strip() + BASH) if request else BASH
    return [Segment(head, request is None), Segment(body.rstrip() + "\n" + EOT, True)]


def text(body: str) -> list[Segment]:
    return [Segment(body.strip() + EOT, True)]


def request_prompt(request: str) -> str:
    """What the engine feeds to answer a request."""
    return REQUEST + request.strip() + BASH


def explain_prompt(command: str) -> str:
    return COMMAND + command.strip() + EXPLAIN


def completion_prompt(prefix: str) -> str:
    """For the REPL: continue typed bash."""
    return BASH + prefix
