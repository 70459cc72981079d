"""Confirm-then-run, shared by ``bash-ai --run`` and the REPL.

Nothing runs without an explicit "e" typed on a terminal, except with ``--yes`` for a command
that no danger rule flags. Enter, EOF and anything unrecognised mean Abort. A dangerous command
with ``--yes`` still asks; without a terminal on stdin it is refused.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Literal

from bash_ai.answer import Candidate, check
from bash_ai.cli import render
from bash_ai.cli.ui import warn
from bash_ai.errors import Aborted

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


def read_line(prompt: str) -> str | None:
    """One line from stdin after a prompt on stderr; ``None`` on EOF."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")
        return None
    return line.rstrip("\n")


def choose(prompt: str = PROMPT) -> Choice:
    answer = read_line(prompt)
    if answer is None:
        return "abort"
    return _KEYS.get(answer.strip().lower(), "abort")


def edit_line(text: str) -> str | None:
    """Let the user edit a command in place (prompt_toolkit on a terminal)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import prompt

        try:
            return prompt("edit> ", default=text)
        except (EOFError, KeyboardInterrupt):
            return None
    return read_line("edit> ")


def execute(text: str) -> int:
    """Run a command or script with bash, in the foreground, sharing our stdio; its exit status."""
    sys.stdout.flush()
    process = subprocess.Popen(["bash", "-c", text])
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The child got the same SIGINT (same process group); let it finish cleaning up.
        return process.wait()


def confirm_and_run(candidate: Candidate, describe: Callable[[str], str], *, yes: bool = False) -> int:
    """Show the command, ask, and run it on "execute": the command's exit status.

    Raises ``Aborted`` when the user declines or when nobody can be asked.
    """
    while True:
        render.show_command(candidate.text)
        render.show_notes(candidate, "the command")
        if yes and not candidate.danger:
            return execute(candidate.text)
        if not sys.stdin.isatty():
            if candidate.danger:
                raise Aborted("refusing to run a command flagged dangerous without a terminal to confirm on")
            raise Aborted("nothing was run: confirming needs a terminal on stdin (or --yes)")
        if yes:
            warn("--yes does not apply to a command flagged dangerous; confirm it explicitly")
        choice = choose()
        if choice == "execute":
            return execute(candidate.text)
        if choice == "abort":
            raise Aborted("aborted; nothing was run")
        if choice == "describe":
            render.show_text(describe(candidate.text), "it does")
            continue
        edited = edit_line(candidate.text)
        if edited is not None and edited.strip() and edited.strip() != candidate.text.strip():
            candidate = check(edited.strip())
