"""``bash-ai shell-init bash|zsh|fish``: a key in the user's own shell that turns the line into bash.

The snippet binds a key (default Ctrl-G) with the shell's own mechanism (bash ``bind -x`` with
``READLINE_LINE``, a zsh ZLE widget with ``BUFFER``, fish ``commandline``). The key runs
``bash-ai shell-line -- LINE``: an English request becomes the best answer, a line that already
looks like a partial command is completed; the new line goes to stdout, danger flags and errors
to stderr (above the prompt). On failure it prints nothing and exits non-zero, and the snippet
keeps the user's line. Nothing is ever executed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from typing import Annotated

import typer

from bash_ai.errors import UsageError

Opt = typer.Option
SHELLS = ("bash", "zsh", "fish")
KEY_ENV = "BASH_AI_KEY"
DEFAULT_KEY = "ctrl-g"

_BASH = """# bash-ai: {key_name} turns the line into bash (eval "$(bash-ai shell-init bash)")
__bash_ai_line() {{
  local new
  new=$({command} shell-line{model} -- "$READLINE_LINE") || return 0
  READLINE_LINE=$new
  READLINE_POINT=${{#READLINE_LINE}}
}}
bind -x '"\\C-{letter}": __bash_ai_line'
"""

_ZSH = """# bash-ai: {key_name} turns the line into bash (eval "$(bash-ai shell-init zsh)")
__bash_ai_line() {{
  local new
  new=$({command} shell-line{model} -- "$BUFFER") || {{ zle reset-prompt; return 0 }}
  BUFFER=$new
  CURSOR=${{#BUFFER}}
  zle reset-prompt
}}
zle -N __bash_ai_line
bindkey '^{upper}' __bash_ai_line
"""

_FISH = """# bash-ai: {key_name} turns the line into bash (bash-ai shell-init fish | source)
function __bash_ai_line
    set -l new ({command} shell-line{model} -- (commandline) | string collect)
    or begin; commandline -f repaint; return 0; end
    commandline -r -- $new
    commandline -f end-of-line repaint
end
bind \\c{letter} __bash_ai_line
"""

SNIPPETS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def register(app: typer.Typer) -> None:
    app.command("shell-init", help="Print a snippet that binds a key in your shell (bash, zsh, fish).")(shell_init)
    app.command("shell-line", hidden=True, help="Turn a shell line into bash (used by shell-init).")(shell_line)


def parse_key(spec: str) -> str:
    """``ctrl-g``, ``C-g`` or ``^G`` -> ``g``: the bindings are Ctrl + one letter."""
    match = re.fullmatch(r"(?:ctrl[-+]|c-|\^)([a-z])", spec.strip().lower())
    if match is None:
        raise UsageError(f"key {spec!r}: use Ctrl and one letter, for example ctrl-g")
    return match.group(1)


def _command() -> str:
    """How the snippet calls this bash-ai: the installed script, else this interpreter's module."""
    found = shutil.which("bash-ai")
    return shlex.quote(found) if found else f"{shlex.quote(sys.executable)} -m bash_ai"


def snippet(shell: str, key: str = DEFAULT_KEY, command: str | None = None, model: str | None = None) -> str:
    if shell not in SHELLS:
        raise UsageError(f"unknown shell {shell!r}; choose one of: {', '.join(SHELLS)}")
    letter = parse_key(key)
    return SNIPPETS[shell].format(
        command=command or _command(),
        model=f" --model {shlex.quote(model)}" if model else "",
        letter=letter,
        upper=letter.upper(),
        key_name=f"Ctrl-{letter.upper()}",
    )


def shell_init(
    shell: Annotated[str, typer.Argument(help="bash | zsh | fish")],
    key: Annotated[str | None, Opt("--key", help=f"Ctrl + a letter (default ${KEY_ENV} or {DEFAULT_KEY})")] = None,
    model: Annotated[
        str | None, Opt("--model", "-m", help="Model name or directory (default: the default model)")
    ] = None,
) -> None:
    sys.stdout.write(snippet(shell, key or os.environ.get(KEY_ENV) or DEFAULT_KEY, model=model))


def looks_like_command(line: str) -> bool:
    """A partial command (to complete), not an English request (to answer).

    The first word names a program on PATH and the line has shell syntax after it (an option, a
    path, a pipe, a glob, a variable, quotes), or is that word alone.
    """
    words = line.split()
    if not words or shutil.which(words[0]) is None:
        return False
    return len(words) == 1 or any(re.match(r"""[-/.~|&;<>*$'"]""", w) for w in words[1:])


def shell_line(
    line: Annotated[str, typer.Argument(help="The shell's current line.")],
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
) -> None:
    from bash_ai.cli import render
    from bash_ai.cli.ask import import_numpy_single_threaded, load_engine

    text = line.strip()
    if not text:
        raise UsageError("the line is empty: type a request first")
    import_numpy_single_threaded()
    engine = load_engine(model)
    if looks_like_command(text):
        from bash_ai.repl.constrained import complete_line

        new = line.rstrip("\n") + complete_line(engine, line.rstrip("\n"), 32)
    else:
        from bash_ai.answer import answer

        best = answer(engine, text, 1)[0]
        render.show_notes(best)
        new = best.text.rstrip("\n")
    sys.stdout.write(new)
    sys.stdout.flush()
