"""Stderr rendering shared by the commands. Styled only when stderr is a TTY and NO_COLOR is unset."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import Any


def styled() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


@lru_cache(maxsize=1)
def console() -> Any:
    """A rich console on stderr (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console(stderr=True, no_color=not styled(), highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One line on stderr: ``bash-ai: error: ...``."""
    line = " ".join(str(message).split()) or "unknown error"
    if styled():
        from rich.markup import escape

        console().print(f"[bold red]bash-ai: error:[/] {escape(line)}", markup=True, highlight=False)
    else:
        sys.stderr.write(f"bash-ai: error: {line}\n")


def warn(message: str) -> None:
    line = " ".join(str(message).split())
    if styled():
        from rich.markup import escape

        console().print(f"[yellow]bash-ai: warning:[/] {escape(line)}", markup=True, highlight=False)
    else:
        sys.stderr.write(f"bash-ai: warning: {line}\n")


def info(message: str) -> None:
    """A status line on stderr (progress, summaries): never on stdout."""
    if styled():
        from rich.markup import escape

        console().print(f"[dim]{escape(message)}[/]", markup=True, highlight=False)
    else:
        sys.stderr.write(message + "\n")
