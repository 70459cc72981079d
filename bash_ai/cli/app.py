"""Composes the subcommand modules into one typer app and maps domain errors to exit codes.

Each module in ``COMMANDS`` exposes ``register(app)``. Heavy imports (torch, mlx, fastapi) happen
inside command bodies, never at module import: ``tests/test_lazy_imports.py`` proves it.
"""

from __future__ import annotations

import importlib
import sys

import typer

from bash_ai import __version__
from bash_ai.errors import BashAIError

COMMANDS: tuple[str, ...] = ("ask", "explain", "repl", "models", "data", "train", "eval", "serve", "shell_init")

# A first argument that is not a subcommand is a request: ``bash-ai "list files"`` means
# ``bash-ai ask "list files"``.
DEFAULT_COMMAND = "ask"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bash-ai {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="bash-ai",
        help="Turn plain English into bash, locally and offline.",
        no_args_is_help=False,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback(invoke_without_command=True)
    def root(
        ctx: typer.Context,
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    ) -> None:
        if ctx.invoked_subcommand is None:
            if "repl" in COMMANDS and sys.stdin.isatty() and sys.stdout.isatty():
                from bash_ai.cli.repl import run_repl

                run_repl()
            else:
                typer.echo(ctx.get_help())

    for name in COMMANDS:
        importlib.import_module(f"bash_ai.cli.{name}").register(app)
    return app


def _route_default(argv: list[str], app: typer.Typer) -> list[str]:
    """Insert the default command unless the first argument is a subcommand or a root option.

    The root has no options of its own besides these, so ``bash-ai --model X "req"`` and
    ``bash-ai -n 3 "req"`` are ask's options and the whole line goes to ``ask``.
    """
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if DEFAULT_COMMAND not in names:
        return argv
    if not argv:
        # Nothing at all: a piped request goes to ask; on a terminal the root opens the REPL.
        return argv if sys.stdin.isatty() else [DEFAULT_COMMAND]
    if argv[0] in names or argv[0] in ("--help", "--version", "--install-completion", "--show-completion"):
        return argv
    return [DEFAULT_COMMAND, *argv]


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    app = build_app()
    args = _route_default(args, app)
    try:
        app(args=args, prog_name="bash-ai", standalone_mode=True)
    except BashAIError as err:
        from bash_ai.term.ui import error

        error(str(err))
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
