"""Renders engine events and checked candidates on stderr; stdout is left to the answer itself.

Styled with rich only when stderr is a TTY (and NO_COLOR is unset); otherwise plain
``bash-ai: ...`` lines that scripts can grep. rich is imported only on the styled path.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from bash_ai.engine.events import Event, Started, TokenEvent
from bash_ai.safety.control import visible
from bash_ai.term.ui import console, styled, warn


def _escape(text: str) -> str:
    """Model text for rich: control characters made visible, then markup escaped."""
    from rich.markup import escape

    return escape(visible(text))


def _line(label: str, text: str, label_style: str, text_style: str = "") -> None:
    """One stderr line, ``label: text``: styled with rich on a terminal, else ``bash-ai: label: text``."""
    if styled():
        body = f"[{text_style}]{_escape(text)}[/]" if text_style else _escape(text)
        console().print(f"[{label_style}]{label}:[/] {body}", markup=True, highlight=False)
    else:
        sys.stderr.write(f"bash-ai: {label}: {visible(text)}\n")
        sys.stderr.flush()


class Progress:
    """A spinner with a token count while the model works (styled stderr only).

    It also turns ``Started(truncated=True)`` into a warning, once, on every kind of stderr.
    """

    def __init__(self, label: str = "thinking") -> None:
        self.label = label
        self.tokens = 0
        self.truncated = False
        self._status: Any = None

    def __enter__(self) -> Progress:
        if styled():
            self._status = console().status(f"{self.label}…", spinner="dots")
            self._status.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._status is not None:
            self._status.__exit__(exc_type, exc, tb)
            self._status = None

    def __call__(self, event: Event) -> None:
        """Feed one engine event (``answer(on_event=progress)``)."""
        if isinstance(event, Started) and event.truncated and not self.truncated:
            self.truncated = True
            warn(
                f"the request is longer than the model's context ({event.prompt_tokens} tokens kept); "
                "only its end was used"
            )
        elif isinstance(event, TokenEvent):
            self.tokens += 1
            if self._status is not None and self.tokens % 4 == 0:
                self._status.update(f"{self.label}… {self.tokens} tokens (Ctrl-C to stop)")


def finding_text(finding: Any) -> str:
    """A shellcheck finding (``bash_ai.safety.Finding``) as ``SC2086 (info) line 1: message``."""
    return f"SC{finding.code} ({finding.level}) line {finding.line}: {finding.message}"


def danger_text(flag: Any) -> str:
    """A ``bash_ai.safety.DangerFlag`` as ``[rule] (severity) message``."""
    return f"[{flag.rule_id}] ({flag.severity}) {flag.message}"


def missing_text(programs: list[str], label: str = "the answer") -> str:
    """The note for an answer naming programs this machine lacks."""
    return f"{label} runs {', '.join(programs)}, not installed here"


def show_danger(flags: list[Any]) -> None:
    for flag in flags:
        text = danger_text(flag)
        _line("danger", text, "bold red", "red")


def unsure_text(label: str = "the answer") -> str:
    """The note beside an answer the reranker scored low (``Candidate.sure`` False)."""
    return f"{label} may well be wrong (the model is unsure of it): read it before you run it"


def show_notes(candidate: Any, label: str = "the answer") -> None:
    """Syntax warning, cut-off, danger flags, the unsure mark, missing programs and shellcheck
    findings of one candidate."""
    if not candidate.syntax_ok:
        message = candidate.syntax_message or "bash -n failed"
        # bash -n's verdict, or find's about an expression (``bash_ai.safety.find_expression``)
        warn(f"{label} {'will not run' if message.startswith('find: ') else 'is not valid bash'}: {message}")
    if candidate.finish_reason == "length":
        warn(f"{label} was cut off at the token limit")
    show_danger(candidate.danger)
    if getattr(candidate, "sure", None) is False:
        warn(unsure_text(label))
    if candidate.missing:  # plain program names only (installed._PLAIN): nothing to escape
        warn(missing_text(candidate.missing, label))
    for finding in candidate.shellcheck:
        text = finding_text(finding)
        _line("shellcheck", text, "dim", "dim")


def show_command(text: str, title: str = "command") -> None:
    """The command about to be run (stderr: stdout belongs to the command's own output)."""
    if styled():
        console().print(f"[bold]{title}:[/]", markup=True, highlight=False)
        for line in visible(text.rstrip("\n")).split("\n"):
            console().print(f"  [cyan]{_escape(line)}[/]", markup=True, highlight=False)
    else:
        sys.stderr.write(
            f"bash-ai: {title}:\n" + "".join(f"  {line}\n" for line in visible(text.rstrip("\n")).split("\n"))
        )
        sys.stderr.flush()


def show_alternatives(candidates: list[Any]) -> None:
    """Candidates after the first, numbered from 2 (the first went to stdout)."""
    for number, candidate in enumerate(candidates, start=2):
        flag = " [dangerous]" if candidate.danger else ""
        bad = " [invalid syntax]" if not candidate.syntax_ok else ""
        # Split after making controls visible: splitlines() would also break at CR, VT, FF...
        lines = visible(candidate.text.rstrip("\n")).split("\n")
        head = f"alternative {number}{flag}{bad}:"
        if styled():
            style = "red" if candidate.danger else ("yellow" if bad else "dim")
            console().print(f"[{style}]{_escape(head)}[/]", markup=True, highlight=False)
            for line in lines:
                console().print(f"  {_escape(line)}", markup=True, highlight=False)
        else:
            sys.stderr.write(f"bash-ai: {head}\n" + "".join(f"  {line}\n" for line in lines))
    sys.stderr.flush()


def show_text(text: str, title: str) -> None:
    """A block of prose on stderr (e.g. a description during confirmation)."""
    if styled():
        console().print(f"[bold]{_escape(title)}:[/] {_escape(text)}", markup=True, highlight=False)
    else:
        sys.stderr.write(f"bash-ai: {title}: {visible(text)}\n")
        sys.stderr.flush()
