"""``bash-ai explain 'tar czf a.tgz dir'``: the reverse direction, bash in, plain English out.

stdout: a one-sentence summary, then the command's parts one per line, each described by the
user's own man pages (or a tldr page, bash's fixed syntax, or, marked so, the model). ``--json``
gives the same as one object. The command's own checks (syntax, danger flags, shellcheck) go to
stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from bash_ai.errors import UsageError

Opt = typer.Option


def register(app: typer.Typer) -> None:
    app.command("explain", help="Describe what a bash command does, part by part.")(explain)


def explain(
    command: Annotated[list[str] | None, typer.Argument(help="The command (quote it), or read from stdin.")] = None,
    as_json: Annotated[bool, Opt("--json", help="One JSON object: summary, parts, checks.")] = False,
    summary: Annotated[
        str, Opt(help="auto | model | retrieval (the nearest training pair) | parts (the man pages' words)")
    ] = "auto",
    temperature: Annotated[float, Opt(min=0.0, max=5.0, help="Sampling temperature (0: greedy).")] = 0.0,
    seed: Annotated[int, Opt(help="Random seed.")] = 0,
    max_tokens: Annotated[int, Opt(min=1, help="Token limit for the summary.")] = 96,
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
) -> None:
    from bash_ai.answer import explain as explain_command
    from bash_ai.api import load_engine, sampling_params
    from bash_ai.cli.ask import argument_text, read_stdin_text
    from bash_ai.term import render

    if summary not in ("auto", "model", "retrieval", "parts"):
        raise UsageError(f"unknown --summary {summary!r}; choose auto, model, retrieval or parts")
    if command:
        text = argument_text(command, "command")
    elif sys.stdin.isatty():
        raise UsageError("no command given: bash-ai explain 'tar czf a.tgz dir'")
    else:
        text = read_stdin_text("command")
    if not text.strip():
        raise UsageError("empty command: bash-ai explain 'tar czf a.tgz dir'")
    engine = load_engine(model)
    params = sampling_params(temperature, seed, max_tokens)
    with render.Progress("explaining"):
        result = explain_command(engine, text, params, summary=summary)  # type: ignore[arg-type]
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    render.show_notes(result.checked, "the command")
    out = result.to_text()
    if sys.stdout.isatty():  # a display: control characters shown, not obeyed
        from bash_ai.safety.control import visible

        out = visible(out)
    sys.stdout.write(out)
    sys.stdout.flush()
