"""``bash-ai shell-init bash|zsh|fish``: a key in the user's own shell that turns the line into bash.

The snippet binds a key (default Ctrl-G) with the shell's own mechanism (bash ``bind -x`` with
``READLINE_LINE``, a zsh ZLE widget with ``BUFFER``, fish ``commandline``). The key runs
``bash-ai shell-line -- LINE``: an English request becomes the best answer, a line that already
looks like a partial command is completed; the new line goes to stdout, danger flags and errors
to stderr (above the prompt). On failure it prints nothing and exits non-zero, and the snippet
keeps the user's line. Nothing is ever executed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import typer

from bash_ai.errors import GenerationError, UsageError

Opt = typer.Option
SHELLS = ("bash", "zsh", "fish")
KEY_ENV = "BASH_AI_KEY"
DEFAULT_KEY = "ctrl-g"

_BASH = """# bash-ai: {key_name} turns the line into bash (eval "$(bash-ai shell-init bash)")
__bash_ai_warm() {{  # a running `bash-ai shell-helper`, over /dev/tcp: 0 answered, 1 absent, 2 error
  local port token fd reply body notes
  read -r port token 2>/dev/null < {helper} || return 1
  exec {{fd}}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  printf '%s %s\\n' "$token" "$(printf %s "$1" | base64 -w0)" >&"$fd"
  read -r reply body notes <&"$fd"
  exec {{fd}}>&-
  [[ $reply == OK || $reply == ERR ]] || return 1
  [[ $notes != - && -n $notes ]] && base64 -d <<<"$notes" >&2 && echo >&2
  if [[ $reply == ERR ]]; then base64 -d <<<"$body" >&2; echo >&2; return 2; fi
  [[ $body == - ]] || base64 -d <<<"$body"
}}
__bash_ai_line() {{
  local new status
  new=$(__bash_ai_warm "$READLINE_LINE"); status=$?
  if ((status == 1)); then
    new=$({command} shell-line{model} -- "$READLINE_LINE") || return 0
  elif ((status != 0)); then
    return 0
  fi
  READLINE_LINE=$new
  READLINE_POINT=${{#READLINE_LINE}}
}}
bind -x '"\\C-{letter}": __bash_ai_line'
"""

# The zsh twin of the bash snippet, on purpose line for line: ztcp instead of /dev/tcp, print for
# printf, ``rc`` for ``status`` (read-only in zsh), a ZLE widget instead of ``bind -x``.
_ZSH = """# bash-ai: {key_name} turns the line into bash (eval "$(bash-ai shell-init zsh)")
__bash_ai_warm() {{  # a running `bash-ai shell-helper`, over ztcp: 0 answered, 1 absent, 2 error
  local port token fd reply body notes
  read -r port token 2>/dev/null < {helper} || return 1
  zmodload zsh/net/tcp 2>/dev/null && ztcp 127.0.0.1 "$port" 2>/dev/null || return 1
  fd=$REPLY
  print -r -- "$token $(print -rn -- "$1" | base64 -w0)" >&$fd
  read -r reply body notes <&$fd
  ztcp -c $fd
  [[ $reply == OK || $reply == ERR ]] || return 1
  [[ $notes != - && -n $notes ]] && base64 -d <<<"$notes" >&2 && echo >&2
  if [[ $reply == ERR ]]; then base64 -d <<<"$body" >&2; echo >&2; return 2; fi
  [[ $body == - ]] || base64 -d <<<"$body"
}}
__bash_ai_line() {{
  local new rc
  new=$(__bash_ai_warm "$BUFFER"); rc=$?
  if (( rc == 1 )); then
    new=$({command} shell-line{model} -- "$BUFFER") || {{ zle reset-prompt; return 0 }}
  elif (( rc != 0 )); then
    zle reset-prompt; return 0
  fi
  BUFFER=$new
  CURSOR=${{#BUFFER}}
  zle reset-prompt
}}
zle -N __bash_ai_line
bindkey '^{upper}' __bash_ai_line
"""

# zsh can hand the line to a running helper as it is typed (a ZLE hook before each redraw), so the
# helper has the answer ready when the key is pressed; without a helper it costs a failed read.
_ZSH_AHEAD = """__bash_ai_ahead() {{  # the line as typed, to a running helper, which answers it before the key
  [[ $BUFFER == "$__bash_ai_sent" ]] && return 0
  typeset -g __bash_ai_sent=$BUFFER
  (( ${{#${{(z)BUFFER}}}} >= 2 )) || return 0
  local port token fd
  {{ read -r port token < {helper} }} 2>/dev/null || return 0
  zmodload zsh/net/tcp 2>/dev/null && ztcp 127.0.0.1 "$port" 2>/dev/null || return 0
  fd=$REPLY
  print -r -- "$token $(print -rn -- "$BUFFER" | base64 -w0) ahead" >&$fd
  ztcp -c $fd
}}
autoload -Uz add-zle-hook-widget && add-zle-hook-widget line-pre-redraw __bash_ai_ahead
"""

# fish has no TCP of its own: a small client script (python -S -I, no bash_ai import) reaches
# the helper; status 1 (no helper) falls back to the cold path, 2 (an error) keeps the line.
_FISH = """# bash-ai: {key_name} turns the line into bash (bash-ai shell-init fish | source)
function __bash_ai_line
    set -l new ({python} -S -I {client} {helper} -- (commandline | string collect))
    set -l rc $status
    if test $rc -eq 1
        set new ({command} shell-line{model} -- (commandline) | string collect)
        or begin; commandline -f repaint; return 0; end
    else if test $rc -ne 0
        commandline -f repaint; return 0
    end
    commandline -r -- (string join \\n -- $new)
    commandline -f end-of-line repaint
end
bind \\c{letter} __bash_ai_line
"""

SNIPPETS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def register(app: typer.Typer) -> None:
    app.command("shell-init", help="Print a snippet that binds a key in your shell (bash, zsh, fish).")(shell_init)
    app.command("shell-line", hidden=True, help="Turn a shell line into bash (used by shell-init).")(shell_line)
    app.command("shell-helper", help="Keep the model loaded so the shell key answers at once.")(shell_helper)


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


def snippet(
    shell: str, key: str = DEFAULT_KEY, command: str | None = None, model: str | None = None, ahead: bool = True
) -> str:
    """The snippet for ``shell``; ``ahead`` (zsh only) sends the line to a running helper as it is typed."""
    if shell not in SHELLS:
        raise UsageError(f"unknown shell {shell!r}; choose one of: {', '.join(SHELLS)}")
    letter = parse_key(key)
    from bash_ai import shell_client

    text = SNIPPETS[shell] + (_ZSH_AHEAD if ahead and shell == "zsh" else "")
    return text.format(
        helper=shlex.quote(str(helper_file())),
        python=shlex.quote(sys.executable),
        client=shlex.quote(str(Path(shell_client.__file__).resolve())),
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
    ahead: Annotated[
        bool,
        Opt("--ahead/--no-ahead", help="zsh: send the line to a running shell-helper as you type, to answer it sooner"),
    ] = True,
) -> None:
    sys.stdout.write(snippet(shell, key or os.environ.get(KEY_ENV) or DEFAULT_KEY, model=model, ahead=ahead))


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
    from bash_ai.api import import_numpy_single_threaded, load_engine
    from bash_ai.term import render

    if not line.strip():
        raise UsageError("the line is empty: type a request first")
    import_numpy_single_threaded()
    engine = load_engine(model, alone=True)
    new, best = turn_line(engine, line)
    if best is not None:
        render.show_notes(best)
    sys.stdout.write(new)
    sys.stdout.flush()


def turn_line(engine: Any, line: str, lint: bool = True, cancel: threading.Event | None = None) -> tuple[str, Any]:
    """The new line for ``line``, and the checked answer behind it (None for a completion);
    ``lint=False`` skips shellcheck, for the helper, whose reply carries only the danger flags and
    missing programs. A set ``cancel`` stops the work early: what it returns then is worthless."""
    text = line.strip()
    if not text:
        raise UsageError("the line is empty: type a request first")
    if looks_like_command(text):
        from bash_ai.repl.constrained import complete_line

        return line.rstrip("\n") + complete_line(engine, line.rstrip("\n"), 32, cancel), None
    from bash_ai.answer import answer

    found = answer(engine, text, 1, lint=lint, cancel=cancel)
    if not found:  # only when cancelled: otherwise answer() raises
        raise GenerationError("stopped before an answer")
    return found[0].text.rstrip("\n"), found[0]


def _helper_notes(best: Any) -> str:
    """What the helper's reply prints above the prompt: the answer's danger flags, whether the
    model is unsure of it, and the programs it names that this machine lacks."""
    from bash_ai.term import render

    lines = [render.danger_text(f) for f in best.danger]
    if best.sure is False:
        lines.append(f"warning: {render.unsure_text()}")
    if best.missing:
        lines.append(f"warning: {render.missing_text(best.missing)}")
    return "\n".join(lines)


def helper_file() -> Path:
    """Where a running ``bash-ai shell-helper`` leaves its port and token (mode 0600)."""
    from bash_ai import paths

    return paths.data_dir() / "shell-helper"


class Answers:
    """The helper's answers. Each line is answered once (the last ``keep`` are kept), and a line
    the shell sends while the user types (zsh: ``ahead``) is answered before the key is pressed,
    once the user has paused for ``PAUSE`` seconds; a newer line cancels an older one's work. The
    model runs in one worker thread, never two answers at once."""

    PAUSE = 0.1
    KEEP = 128

    def __init__(self, engine: Any, keep: int = KEEP) -> None:
        from bash_ai.repl.worker import ModelWorker

        self._engine = engine
        self._keep = keep
        self._worker = ModelWorker()
        self._lock = threading.Lock()
        self._done: OrderedDict[str, tuple[str, str]] = OrderedDict()  # line -> (new line, notes)
        self._ahead: tuple[str, Any, threading.Event] | None = None  # line, job, hurry

    def _turn(self, line: str, cancel: threading.Event) -> tuple[str, str] | None:
        new, best = turn_line(self._engine, line, lint=False, cancel=cancel)
        if cancel.is_set():
            return None
        done = (new, "" if best is None else _helper_notes(best))
        with self._lock:
            self._done[line] = done
            while len(self._done) > self._keep:
                self._done.popitem(last=False)
        return done

    def ahead(self, line: str) -> None:
        """Start answering ``line`` (a request of two words or more) once the user pauses."""
        if len(line.split()) < 2 or looks_like_command(line.strip()):
            return  # a command typed as usual: the key only completes it, at once
        with self._lock:
            if line in self._done or (self._ahead is not None and self._ahead[0] == line):
                return
        hurry = threading.Event()  # the key was pressed for this line: no pause

        def work(cancel: threading.Event) -> tuple[str, str] | None:
            until = time.monotonic() + self.PAUSE
            while time.monotonic() < until and not hurry.is_set():
                if cancel.wait(0.01):
                    return None
            try:
                return self._turn(line, cancel)
            except Exception:  # noqa: BLE001 - the key answers the line again and reports the error
                return None

        self._ahead = (line, self._worker.submit(work, key="ahead"), hurry)  # cancels the older one

    def key(self, line: str) -> tuple[tuple[str, str], str]:
        """The reply for ``line``, and how it came: ``kept`` (answered before), ``ahead`` (its answer
        ahead was running) or ``now``."""
        with self._lock:
            done = self._done.get(line)
            if done is not None:
                self._done.move_to_end(line)
                return done, "kept"
        if self._ahead is not None and self._ahead[0] == line:
            _, job, hurry = self._ahead
            hurry.set()
            done = job.result()
            if done is not None:
                return done, "ahead"
        self._worker.cancel_all()  # work for an older line is worthless now
        done = self._worker.submit(lambda cancel: self._turn(line, threading.Event())).result()
        return done, "now"

    def close(self) -> None:
        self._worker.close()


def shell_helper(
    model: Annotated[str | None, Opt("--model", "-m", help="Model name or directory.")] = None,
    matmul: Annotated[
        str,
        Opt(
            "--matmul",
            help="The weights' matmuls: auto (bf16 where PyTorch is installed and faster on this CPU) | fp32 | bf16",
        ),
    ] = "auto",
    verbose: Annotated[bool, Opt("--verbose", "-v", help="Say on stderr how each key press was answered")] = False,
    keep: Annotated[
        int,
        Opt(
            "--keep",
            min=0,
            help="Answers kept for lines seen again (0: answer every key press anew, as a benchmark wants)",
        ),
    ] = Answers.KEEP,
) -> None:
    """Keep the model loaded and answer key presses over 127.0.0.1 (a random port and a secret
    token, written to the helper file for the snippet); Ctrl-C stops it and removes the file. Lines
    zsh sends as they are typed are answered while the user pauses (``Answers``).

    With bf16 matmuls (``bash_ai.model.bf16``) an answer comes 1.0-1.4x sooner (long ones most), and
    a first answer can differ from the CLI's float32 one where two candidates nearly tie."""
    import base64
    import hmac
    import secrets
    import signal
    import socket

    from bash_ai import paths
    from bash_ai.api import import_numpy_single_threaded, load_engine
    from bash_ai.errors import BashAIError
    from bash_ai.io import atomic_write_text
    from bash_ai.model.bf16 import check_matmul, use_matmul

    check_matmul(matmul)  # a bad option fails before the model loads
    import_numpy_single_threaded()
    engine = load_engine(model, alone=True)
    used = use_matmul(engine.model, matmul)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a kill cleans up like Ctrl-C
    token = secrets.token_hex(16)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    where = helper_file()
    paths.ensure(where.parent)
    atomic_write_text(where, f"{port} {token}\n")
    os.chmod(where, 0o600)
    sys.stderr.write(
        f"bash-ai shell-helper: ready on 127.0.0.1:{port} ({engine.name}, {used} matmuls); Ctrl-C stops it\n"
    )
    sys.stderr.flush()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii") or "-"

    answers = Answers(engine, keep)
    try:
        while True:
            conn, _ = server.accept()
            with conn, conn.makefile("rwb") as stream:
                conn.settimeout(5)
                try:
                    got = stream.readline(1 << 16).decode("ascii", "replace").split()
                    if got[2:] not in ([], ["ahead"]) or len(got) < 2 or not hmac.compare_digest(got[0], token):
                        continue  # not our snippet: say nothing
                    line = base64.b64decode(got[1]).decode("utf-8")
                    if got[2:] == ["ahead"]:
                        answers.ahead(line)  # no reply: the shell does not wait
                        continue
                    began = time.perf_counter()
                    (new, notes), how = answers.key(line)
                    reply = f"OK {b64(new)} {b64(notes)}\n"
                    if verbose:
                        sys.stderr.write(f"key: {how}, {(time.perf_counter() - began) * 1000:.0f} ms: {line!r}\n")
                except (BashAIError, ValueError) as exc:
                    reply = f"ERR {b64(f'bash-ai: error: {exc}')} -\n"
                except OSError:
                    continue
                stream.write(reply.encode("ascii"))
                stream.flush()
    except KeyboardInterrupt:
        pass
    finally:
        answers.close()
        server.close()
        with contextlib.suppress(OSError):
            where.unlink()
