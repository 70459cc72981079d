"""Confirm-then-run, shared by ``bash-ai --run`` and the REPL.

Nothing runs without an explicit "e" typed on a terminal, except with ``--yes`` for a command
that no danger rule flags. Enter, EOF and anything unrecognised mean Abort. A dangerous command
with ``--yes`` still asks; without a terminal on stdin it is refused.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Literal, TextIO

from bash_ai.answer import Candidate, check
from bash_ai.errors import Aborted
from bash_ai.safety.control import visible
from bash_ai.term import render
from bash_ai.term.ui import warn

Choice = Literal["execute", "modify", "describe", "abort"]

PROMPT = "[E]xecute / [M]odify / [D]escribe / [A]bort (default)? "
_KEYS: dict[str, Choice] = {
    "e": "execute",
    "execute": "execute",
    "x": "execute",
    "m": "modify",
    "modify": "modify",
    "d": "describe",
    "describe": "describe",
    "a": "abort",
    "abort": "abort",
    "n": "abort",
    "q": "abort",
}


class Terminal:
    """Where to ask: stdin and stderr when stdin is a terminal, else the controlling terminal
    (``/dev/tty``, as git and sudo do when the input is piped in)."""

    def __init__(self, input: TextIO, output: TextIO, owned: tuple[TextIO, ...] = ()) -> None:
        self.input, self.output, self._owned = input, output, owned

    @classmethod
    def open(cls) -> Terminal | None:
        """The terminal to ask on, or None when there is none (a pipe with no controlling tty)."""
        if sys.stdin.isatty():
            return cls(sys.stdin, sys.stderr)
        try:  # a tty is not seekable: one handle to read, one to write
            reader = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed by close()
        except OSError:
            return None
        try:
            writer = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
        except OSError:
            reader.close()
            return None
        return cls(reader, writer, (reader, writer))

    @property
    def is_stdin(self) -> bool:
        return not self._owned

    def close(self) -> None:
        for handle in self._owned:
            handle.close()


def read_line(prompt: str, term: Terminal | None = None) -> str | None:
    """One line from the terminal (default: stdin) after a prompt (stderr); ``None`` on EOF."""
    source, sink = (term.input, term.output) if term is not None else (sys.stdin, sys.stderr)
    sink.write(prompt)
    sink.flush()
    line = source.readline()
    if not line:
        sink.write("\n")
        return None
    return line.rstrip("\n")


def choose(prompt: str = PROMPT, term: Terminal | None = None) -> Choice:
    answer = read_line(prompt, term)
    if answer is None:
        return "abort"
    return _KEYS.get(answer.strip().lower(), "abort")


def edit_line(text: str, term: Terminal | None = None) -> str | None:
    """Let the user edit a command in place (prompt_toolkit on a terminal)."""
    if term is not None and not term.is_stdin:
        return read_line(f"edit (was: {visible(text)})> ", term)
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import prompt

        try:
            return prompt("edit> ", default=text)
        except (EOFError, KeyboardInterrupt):
            return None
    return read_line("edit> ")


def execute(text: str, term: Terminal | None = None) -> int:
    """Run a command or script with bash, in the foreground, sharing our stdio (stdin: the
    terminal we asked on, when the request itself was piped in); its exit status."""
    sys.stdout.flush()
    stdin = term.input if term is not None and not term.is_stdin else None
    process = subprocess.Popen(["bash", "-c", text], stdin=stdin)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The child got the same SIGINT (same process group); let it finish cleaning up.
        return process.wait()


def confirm_and_run(
    candidate: Candidate,
    describe: Callable[[str], str],
    *,
    yes: bool = False,
    runner: Callable[[str], int] | None = None,
) -> int:
    """Show the command, ask, and run it on "execute": the command's exit status.

    Raises ``Aborted`` when the user declines or when nobody can be asked. ``runner`` runs the
    confirmed command (the REPL's persistent shell); by default a fresh ``bash -c``.
    """
    term: Terminal | None = None
    try:
        while True:
            render.show_command(candidate.text)
            render.show_notes(candidate, "the command")
            if yes and not candidate.danger:
                return runner(candidate.text) if runner is not None else execute(candidate.text)
            term = term or Terminal.open()
            if term is None:
                if candidate.danger:
                    raise Aborted("refusing to run a command flagged dangerous without a terminal to confirm on")
                raise Aborted("nothing was run: confirming needs a terminal (or --yes)")
            if not term.is_stdin and not sys.stderr.isatty():  # stderr goes elsewhere: show it where we ask
                shown = "".join(f"  {line}\n" for line in visible(candidate.text.rstrip("\n")).split("\n"))
                flags = "".join(f"danger: {render.danger_text(f)}\n" for f in candidate.danger)
                term.output.write(f"command:\n{shown}{flags}")
            if yes:
                warn("--yes does not apply to a command flagged dangerous; confirm it explicitly")
            choice = choose(term=term)
            if choice == "execute":
                return runner(candidate.text) if runner is not None else execute(candidate.text, term)
            if choice == "abort":
                raise Aborted("aborted; nothing was run")
            if choice == "describe":
                render.show_text(describe(candidate.text), "it does")
                continue
            edited = edit_line(candidate.text, term)
            if edited is not None and edited.strip() and edited.strip() != candidate.text.strip():
                candidate = check(edited.strip())
    finally:
        if term is not None:
            term.close()
