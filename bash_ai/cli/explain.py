"""``bash-ai explain 'tar czf a.tgz dir'``: the reverse direction, bash in, plain English out.

The description goes to stdout; the command's own checks (syntax, danger flags, shellcheck) to
stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bash_ai.errors import UsageError

Opt = typer.Option


def register(app: typer.Typer) -> None:
    app.command("explain", help="Describe what a bash command does, in plain English.")(explain)


def explain(
    command: Annotated[list[str] | None, typer.Argument(help="The command (quote it), or read from stdin.")] = None,
    temperature: Annotated[float, Opt(min=0.0, max=5.0, help="Sampling temperature (0: greedy).")] = 0.0,
    seed: Annotated[int, Opt(help="Random seed.")] = 0,
    max_tokens: Annotated[int, Opt(min=1, help="Token limit for the description.")] = 96,
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
) -> None:
    from bash_ai.answer import explain as explain_command
    from bash_ai.cli import render
    from bash_ai.cli.ask import argument_text, load_engine, read_stdin_text, sampling_params

    if command:
        text = argument_text(command, "command")
    elif sys.stdin.isatty():
        raise UsageError("no command given: bash-ai explain 'tar czf a.tgz dir'")
    else:
        text = read_stdin_text("command")
    if not text.strip():
        raise UsageError("empty command: bash-ai explain 'tar czf a.tgz dir'")
    engine = load_engine(model)
    with render.Progress("explaining"):
        description, checked = explain_command(engine, text, sampling_params(temperature, seed, max_tokens))
    render.show_notes(checked, "the command")
    description = description or "(the model gave no description)"
    if sys.stdout.isatty():  # a display: control characters shown, not obeyed
        from bash_ai.safety.control import visible

        description = visible(description)
    sys.stdout.write(description + "\n")
    sys.stdout.flush()
