"""``bash-ai repl`` (also ``bash-ai`` with no arguments on a terminal): the interactive REPL."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bash_ai.errors import UsageError

Opt = typer.Option


def register(app: typer.Typer) -> None:
    app.command("repl", help="Interactive shell: bash completed by the model, # to ask in English.")(repl)


def run_repl(model: str | None = None, temperature: float | None = None) -> None:
    """Load the model and run the REPL until :quit or Ctrl-D."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError('the REPL needs a terminal; for one-shot use: bash-ai "list files by size"')
    from bash_ai.api import load_engine
    from bash_ai.repl.session import Repl
    from bash_ai.term.render import Progress

    with Progress("loading the model"):
        engine = load_engine(model)
    raise typer.Exit(Repl(engine, engine.name, temperature).run())


def repl(
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
    temperature: Annotated[
        float | None, Opt(min=0.0, max=5.0, help="Sample # requests at this temperature instead of beam search.")
    ] = None,
) -> None:
    run_repl(model, temperature)
