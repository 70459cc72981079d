"""``bash-ai "request"`` (the default command): plain English in, bash out.

stdout carries only the answer (one command, or a whole script), so ``bash-ai "..." > x.sh``
works; progress, warnings, danger flags and alternatives go to stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from bash_ai.answer import DEFAULT_TEMPERATURE, default_max_tokens, wants_script
from bash_ai.api import decode_config, load_engine, model_label, sampling_params
from bash_ai.errors import UsageError
from bash_ai.safety.control import visible

Opt = typer.Option

JSON_SCHEMA_VERSION = 1


def register(app: typer.Typer) -> None:
    app.command("ask", help="Turn a request into a bash command or script (the default command).")(ask)


def read_stdin_text(what: str = "request") -> str:
    """All of stdin as UTF-8, refusing more than the request limit without reading it all."""
    from bash_ai.answer import MAX_REQUEST_BYTES

    data = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        raise UsageError(f"{what} on stdin is too long (over the limit of {MAX_REQUEST_BYTES} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} on stdin is not valid UTF-8 (byte {exc.start})") from None


def argument_text(words: list[str], what: str = "request") -> str:
    """Command-line words as one string; undecodable bytes (surrogate escapes) are refused."""
    text = " ".join(words)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not valid UTF-8") from None
    return text


def ask(
    request: Annotated[
        list[str] | None, typer.Argument(help="What the command should do (or read from stdin).")
    ] = None,
    candidates: Annotated[int, Opt("-n", "--candidates", min=1, max=10, help="How many distinct answers.")] = 1,
    temperature: Annotated[
        float | None,
        Opt(min=0.0, max=5.0, help="Sample at this temperature (0: greedy) instead of beam search."),
    ] = None,
    seed: Annotated[int, Opt(help="Random seed (same seed, same answer).")] = 0,
    max_tokens: Annotated[int | None, Opt(min=1, help="Token limit per answer.")] = None,
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
    as_json: Annotated[bool, Opt("--json", help="Print a JSON document (schema in the README).")] = False,
    run: Annotated[bool, Opt("--run", help="Offer to run the answer after confirmation.")] = False,
    yes: Annotated[bool, Opt("--yes", "-y", help="With --run: no confirmation, unless flagged dangerous.")] = False,
) -> None:
    from bash_ai.answer import UNSURE_ALTERNATIVES, alternatives_beside, answer, validate_request
    from bash_ai.term import render

    if as_json and run:
        raise UsageError("--json and --run cannot be combined: --json only describes the answers")
    if request:
        text = argument_text(request)
    elif sys.stdin.isatty():
        if sys.stdout.isatty():  # ``bash-ai --model X`` on a terminal: the REPL with that model
            from bash_ai.cli.repl import run_repl

            run_repl(model=model, temperature=temperature)
            return
        raise UsageError('no request given: bash-ai "list files by size" (or pipe it on stdin)')
    else:
        text = read_stdin_text()
    text = validate_request(text)
    engine = load_engine(model, alone=True)
    if max_tokens is None:
        max_tokens = default_max_tokens(text)
    # Commands: beam search (deterministic, the measured best) unless a temperature asks for sampling.
    sample = temperature is not None or wants_script(text)
    chosen = DEFAULT_TEMPERATURE if temperature is None else temperature
    params = sampling_params(chosen, seed, max_tokens) if sample else None

    # One answer asked for on a terminal: the next ones too, shown only if the model is unsure of it.
    wanted = candidates == 1 and not (sample or as_json or run) and sys.stderr.isatty()
    extra = UNSURE_ALTERNATIVES if wanted else 0
    with render.Progress() as progress:
        results = answer(engine, text, candidates + extra, params, on_event=progress, decode=decode_config(max_tokens))
    if extra:
        results = results[:1] + alternatives_beside(results)

    if as_json:
        document = {
            "schema": JSON_SCHEMA_VERSION,
            "request": text,
            "model": model_label(engine),
            "truncated": progress.truncated,
            "candidates": [c.to_dict() for c in results],
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return

    best = results[0]
    if len(results) > 1:
        render.show_alternatives(results[1:])
    if run:  # the confirmation shows the command and its notes
        from bash_ai.term.confirm import confirm_and_run

        def describe(command: str) -> str:
            from bash_ai.answer import explain

            return explain(engine, command).to_text().rstrip("\n")

        status = confirm_and_run(best, describe, yes=yes)
        raise typer.Exit(status)
    render.show_notes(best)
    # On a terminal the answer is a display too: control characters shown, not obeyed.
    text = visible(best.text) if sys.stdout.isatty() else best.text
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
