"""The unit every source yields: one pair, script or piece of English text, with its provenance.

A document becomes one or more training sequences of ``prompt.Segment`` (a pair trains both
directions), so every source shares one prompt format and one loss-mask rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bash_ai import prompt

Kind = Literal["pair", "script", "text"]
KINDS: tuple[str, ...] = ("pair", "script", "text")

# "train" documents may be trained on; every other split ("dev", "test", "holdout") is for
# evaluation only and is never tokenized into the training cache.
TRAIN = "train"


@dataclass(frozen=True)
class Document:
    """``request``/``command`` are set for pairs; ``text`` for scripts and English text."""

    kind: Kind
    id: str  # stable across runs: "<source>:<something unique in the source>"
    source: str
    licence: str
    text: str = ""
    request: str = ""
    command: str = ""
    split: str = TRAIN
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def language(self) -> str:
        """``"en"`` for English text, ``"bash"`` for pairs and scripts (the bilingual mix axis)."""
        return "en" if self.kind == "text" else "bash"


Targets = Literal["command", "template", "hinted"]
TARGETS: tuple[str, ...] = ("command", "template", "hinted")


def to_sequences(
    doc: Document, neighbor_sets: Sequence[Sequence[tuple[str, str]]] = (), targets: Targets = "command"
) -> list[list[prompt.Segment]]:
    """Training sequences for a document; empty when it has nothing to learn from.

    A pair gives one retrieval-augmented forward sequence per set of neighbours (``(request,
    command)`` pairs, best first), then the plain forward and reverse sequences.

    ``targets="template"`` trains a structure model: every command (the pair's and its neighbours')
    becomes its template, arguments abstracted (``bash_ai.templates``), and a pair gives
    its forward sequences only (a template does not say what a request names). ``targets="hinted"``
    trains as ``"command"`` plus one sequence more per pair: the request with its command's template
    as a hint, then the command (``prompt.hinted_pair``: a structure model's templates filled with
    the request's arguments). Scripts and text are unchanged.
    """
    if doc.kind == "pair":
        if not doc.request.strip() or not doc.command.strip():
            return []
        if targets == "template":
            from bash_ai.templates import command_template

            command = command_template(doc.command)
            hits = [[(r, command_template(c)) for r, c in found] for found in neighbor_sets]
            augmented = [prompt.retrieval_pair(doc.request, command, found) for found in hits if found]
            return [*augmented, prompt.forward_pair(doc.request, command)] if command.strip() else []
        augmented = [prompt.retrieval_pair(doc.request, doc.command, hits) for hits in neighbor_sets if hits]
        hinted = []
        if targets == "hinted":
            from bash_ai.templates import command_template

            template = command_template(doc.command)
            hinted = [prompt.hinted_pair(doc.request, doc.command, template)] if template.strip() else []
        return [
            *augmented,
            *hinted,
            prompt.forward_pair(doc.request, doc.command),
            prompt.reverse_pair(doc.request, doc.command),
        ]
    if doc.kind == "script":
        if not doc.text.strip():
            return []
        request, body = split_leading_comment(doc.text)
        return [prompt.script(body, request)]
    if doc.kind == "text":
        return [prompt.text(doc.text)] if doc.text.strip() else []
    raise ValueError(f"unknown document kind {doc.kind!r}")


_BOILERPLATE = re.compile(
    r"copyright|licen[cs]|warranty|gnu general|free software|spdx|all rights reserved|applicable law|"
    r"permission|redistribut|author|-\*-|vim?:|\bex:|shellcheck|\$Id|\$Header",
    re.IGNORECASE,
)
_MAX_REQUEST_CHARS = 300


def split_leading_comment(script: str) -> tuple[str | None, str]:
    """The script's leading ``#`` comment block (its description) and the rest of the script.

    The shebang stays in the body. Licence boilerplate and editor modelines are not a description;
    only the first paragraph of what remains is used, capped so a long header stays a request.
    """
    lines = script.splitlines()
    shebang: list[str] = []
    i = 0
    if lines and lines[0].startswith("#!"):
        shebang, i = [lines[0]], 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    start = i
    while i < len(lines) and lines[i].lstrip().startswith("#") and not lines[i].startswith("#!"):
        i += 1
    if i == start:
        return None, script
    paragraph: list[str] = []
    for raw in lines[start:i]:
        line = raw.lstrip().lstrip("#").strip()
        if not line or set(line) <= set("-=*#~_"):
            if paragraph:
                break
            continue
        if _BOILERPLATE.search(line):
            if paragraph:
                break
            continue
        paragraph.append(line)
    request = " ".join(paragraph)[:_MAX_REQUEST_CHARS].strip()
    body = "\n".join(shebang + lines[i:]).strip("\n")
    if not request or not body.strip() or body.strip() == "\n".join(shebang):
        return None, script
    return request, body + "\n"
