"""Composes the subcommand modules into one typer app and maps domain errors to exit codes.

Each module in ``COMMANDS`` exposes ``register(app)``. Heavy imports (torch, mlx, fastapi) happen
inside command bodies, never at module import: ``tests/test_lazy_imports.py`` proves it. A line that
names its command (``bash-ai "list files"`` is ``ask``'s) builds only that command's module: typer
reads the signature of every command it is given, ~50 ms of a cold answer for all of them.
"""

from __future__ import annotations

import importlib
import sys

import typer

from bash_ai import __version__
from bash_ai.errors import BashAIError

# Each module under bash_ai/cli and the top-level commands it registers.
COMMANDS: dict[str, tuple[str, ...]] = {
    "ask": ("ask",),
    "explain": ("explain",),
    "repl": ("repl",),
    "models": ("models",),
    "data": ("data",),
    "train": ("train",),
    "eval": ("eval",),
    "serve": ("serve",),
    "shell_init": ("shell-init", "shell-line", "shell-helper"),
}
_OWNER = {command: module for module, commands in COMMANDS.items() for command in commands}

# A first argument that is not a subcommand is a request: ``bash-ai "list files"`` means
# ``bash-ai ask "list files"``.
DEFAULT_COMMAND = "ask"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bash-ai {__version__}")
        raise typer.Exit()


def build_app(modules: tuple[str, ...] = tuple(COMMANDS)) -> typer.Typer:
    """The app with the commands of ``modules`` (all of them by default)."""
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

    for name in modules:
        importlib.import_module(f"bash_ai.cli.{name}").register(app)
    return app


def _route_default(argv: list[str]) -> list[str]:
    """Insert the default command unless the first argument is a subcommand or a root option.

    The root has no options of its own besides these, so ``bash-ai --model X "req"`` and
    ``bash-ai -n 3 "req"`` are ask's options and the whole line goes to ``ask``.
    """
    names = set(_OWNER)
    if not argv:
        # Nothing at all: a piped request goes to ask; on a terminal the root opens the REPL.
        return argv if sys.stdin.isatty() else [DEFAULT_COMMAND]
    if argv[0] in names or argv[0] in ("--help", "--version", "--install-completion", "--show-completion"):
        return argv
    return [DEFAULT_COMMAND, *argv]


def main(argv: list[str] | None = None) -> None:
    args = _route_default(list(sys.argv[1:] if argv is None else argv))
    owner = _OWNER.get(args[0]) if args else None
    app = build_app((owner,) if owner else tuple(COMMANDS))
    try:
        app(args=args, prog_name="bash-ai", standalone_mode=True)
    except BashAIError as err:
        from bash_ai.term.ui import error

        error(str(err))
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
