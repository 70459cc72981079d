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

COMMANDS: tuple[str, ...] = ()

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
            typer.echo(ctx.get_help())

    for name in COMMANDS:
        importlib.import_module(f"bash_ai.cli.{name}").register(app)
    return app


def _route_default(argv: list[str], app: typer.Typer) -> list[str]:
    """Insert the default command when the first positional argument is not a subcommand."""
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if DEFAULT_COMMAND not in names:
        return argv
    for i, arg in enumerate(argv):
        if arg == "--":
            return argv[:i] + [DEFAULT_COMMAND] + argv[i:]
        if arg.startswith("-"):
            if arg in ("--help", "--version", "--install-completion", "--show-completion"):
                return argv
            continue
        if arg in names:
            return argv
        return argv[:i] + [DEFAULT_COMMAND] + argv[i:]
    # No positional argument: options only (e.g. ``bash-ai -n 3`` with a piped request).
    if argv or not sys.stdin.isatty():
        return [DEFAULT_COMMAND, *argv]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    app = build_app()
    args = _route_default(args, app)
    try:
        app(args=args, prog_name="bash-ai", standalone_mode=True)
    except BashAIError as err:
        from bash_ai.cli.ui import error

        error(str(err))
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
