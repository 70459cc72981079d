"""The REPL in a real terminal (tmux): ghost-text suggestion accepted with →, a command run after
confirmation, a ``#`` request, Ctrl-C during generation, and a clean exit.

Every wait polls ``capture-pane`` with a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.tool("tmux")

PROMPT = "bash-ai $ "
EMPTY_PROMPT = r"^bash-ai \$[ \t]*$"  # capture-pane drops trailing spaces


class Tmux:
    """One detached tmux server on a private socket, running one command in one pane."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.socket = str(tmp / "tmux.sock")
        self.env = env

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=10
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def start(self, command: str) -> None:
        # The shell wrapper reports the exit status and keeps the pane alive to read it.
        wrapped = f'{command}; echo "[repl exit $?]"; sleep 30'
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", wrapped)

    def send(self, *keys: str, literal: bool = False) -> None:
        self._tmux("send-keys", "-t", "t", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", "-S", "-200")

    def wait_for(self, pattern: str, timeout: float = 10.0, after: int = 0) -> re.Match[str]:
        """Poll until ``pattern`` matches the screen text from offset ``after``."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            match = re.compile(pattern, re.MULTILINE).search(screen, after)
            if match:
                return match
            if "[repl exit " in screen and "repl exit" not in pattern:  # the REPL is gone: fail now
                break
            time.sleep(0.05)
        raise AssertionError(f"did not see {pattern!r}; screen:\n{screen}")

    def cursor_x(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "t", "#{cursor_x}"))

    def wait_for_cursor(self, beyond: int, timeout: float = 10.0) -> int:
        """Poll until the cursor column passes ``beyond`` (text was inserted, not just shown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (x := self.cursor_x()) > beyond:
                return x
            time.sleep(0.05)
        raise AssertionError(f"the cursor stayed at column {self.cursor_x()}; screen:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=10)


def start_repl(tmp_path: Path, home: Path, model_dir: Path | None, args: str = "repl") -> Tmux:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "BASH_AI_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    term = Tmux(tmp_path, env)
    work = tmp_path / "work"
    work.mkdir()
    python = shlex.quote(sys.executable)
    model = f" --model {shlex.quote(str(model_dir))}" if model_dir is not None else ""
    term.start(f"cd {shlex.quote(str(work))} && {python} -m bash_ai {args}{model}".rstrip())
    return term


@contextlib.contextmanager
def running_repl(tmp_path: Path, home: Path, model_dir: Path | None, args: str = "repl") -> Iterator[Tmux]:
    term = start_repl(tmp_path, home, model_dir, args)
    try:
        yield term
    finally:
        term.kill()


@pytest.fixture
def repl(tmp_path: Path, trained_model_dir: Path, bash_ai_home: Path) -> Iterator[Tmux]:
    with running_repl(tmp_path, bash_ai_home, trained_model_dir) as term:
        yield term


@pytest.fixture
def slow_repl(tmp_path: Path, slow_model_dir: Path, bash_ai_home: Path) -> Iterator[Tmux]:
    with running_repl(tmp_path, bash_ai_home, slow_model_dir) as term:
        yield term


@pytest.fixture(scope="module")
def slow_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random ``small`` weights: a script request takes seconds, so Ctrl-C lands mid-generation."""
    from fixtures_model import build_random_model, shared_model

    return shared_model(
        tmp_path_factory.getbasetemp(), "small-random", lambda out: build_random_model(out, preset_name="small")
    )


def test_suggest_accept_run_and_quit(repl: Tmux, bash_ai_home: Path) -> None:
    repl.wait_for(EMPTY_PROMPT)
    repl.send("echo hel", literal=True)
    # Ghost text: the model continues the typed prefix on the same line.
    suggestion = repl.wait_for(re.escape(PROMPT) + r"echo hel(\S.*?)[ \t]*$")
    repl.send("Right")
    repl.send("Enter")
    accepted = "echo hel" + suggestion[1]
    repl.wait_for(r"\[E\]xecute")
    assert accepted in repl.screen()
    repl.send("e", literal=True)
    repl.send("Enter")
    out = repl.wait_for(r"^hello[ \t]*$")
    repl.wait_for(EMPTY_PROMPT, after=out.end())
    repl.send(":quit", literal=True)
    repl.send("Enter")
    repl.wait_for(r"\[repl exit 0\]")
    history = (bash_ai_home / "data" / "repl_history").read_text()
    assert accepted in history


def test_request_line_then_abort_and_ctrl_d(repl: Tmux) -> None:
    repl.wait_for(EMPTY_PROMPT)
    repl.send("# say hello", literal=True)
    repl.send("Enter")
    shown = repl.wait_for(r"\[E\]xecute")
    assert "echo hello" in repl.screen()
    repl.send("Enter")  # the default is Abort
    aborted = repl.wait_for(r"aborted", after=shown.end())
    repl.wait_for(EMPTY_PROMPT, after=aborted.end())
    repl.send("C-d")
    repl.wait_for(r"\[repl exit 0\]")


def test_ctrl_c_during_generation_keeps_the_repl(slow_repl: Tmux) -> None:
    repl = slow_repl
    repl.wait_for(EMPTY_PROMPT)
    repl.send("# write a script that backs up the documents folder", literal=True)
    repl.send("Enter")
    repl.wait_for(r"thinking")  # the spinner: the model is at work
    repl.send("C-c")
    cancelled = repl.wait_for(r"^cancelled[ \t]*$")
    assert "[E]xecute" not in repl.screen()
    prompt = repl.wait_for(EMPTY_PROMPT, after=cancelled.end())
    repl.send("echo still alive", literal=True)
    repl.send("Enter")
    repl.wait_for(r"\[E\]xecute", after=prompt.end())
    repl.send("e", literal=True)
    repl.send("Enter")
    repl.wait_for(r"^still alive[ \t]*$")
    repl.send(":quit", literal=True)
    repl.send("Enter")
    repl.wait_for(r"\[repl exit 0\]")


def test_bare_bash_ai_on_a_terminal_opens_the_repl(tmp_path: Path, trained_model_dir: Path, bash_ai_home: Path) -> None:
    from bash_ai.registry import set_default_model

    set_default_model(str(trained_model_dir))  # `bash-ai models use DIR`; no bundled model in tests
    with running_repl(tmp_path, bash_ai_home, None, args="") as term:
        term.wait_for(EMPTY_PROMPT)
        term.send("C-d")
        term.wait_for(r"\[repl exit 0\]")


def test_tab_inserts_model_completions(repl: Tmux) -> None:
    repl.wait_for(EMPTY_PROMPT)
    repl.send("ls", literal=True)
    repl.wait_for(r"ls -S")  # the ghost text: shown, but the cursor stays after "ls"
    typed_end = repl.cursor_x()
    repl.send("Tab")  # one distinct completion is inserted; several insert their common part
    repl.wait_for_cursor(beyond=typed_end)
    repl.send("Enter")
    shown = repl.wait_for(r"^command:\n  (ls -\S*)[ \t]*$")  # only accepted text is submitted
    assert shown[1].startswith("ls -")
    repl.send("Enter")  # Abort
    repl.wait_for(EMPTY_PROMPT, after=shown.end())
    repl.send("C-d")
    repl.wait_for(r"\[repl exit 0\]")


@pytest.mark.tool("man")
def test_meta_commands(repl: Tmux, tiny_model_dir: Path) -> None:
    repl.wait_for(EMPTY_PROMPT)
    repl.send(":explain rm -rf ./*", literal=True)
    repl.send("Enter")
    explained = repl.wait_for(r"^delete everything here[ \t]*$")  # the reverse direction
    repl.wait_for(r"^  -r +Remove directories", after=explained.start())  # then the parts, from man rm
    repl.wait_for(r"danger: \[", after=explained.start())
    repl.send(f":model {tiny_model_dir}", literal=True)
    repl.send("Enter")
    switched = repl.wait_for(r"^model: tiny-random \(")
    repl.wait_for(r"tiny-random \|", after=switched.end())  # the toolbar names the new model
    repl.send(":model /nonexistent/model", literal=True)
    repl.send("Enter")
    repl.wait_for(r"^error: .*nonexistent")  # one line, and the REPL stays up
    repl.send(":quit", literal=True)
    repl.send("Enter")
    repl.wait_for(r"\[repl exit 0\]")


def _run_confirmed(repl: Tmux, line: str, expect: str, after: int = 0) -> int:
    """At the next empty prompt, type ``line``, confirm with e, wait for ``expect``; the offset after it."""
    after = repl.wait_for(EMPTY_PROMPT, after=after).start()
    repl.send(line, literal=True)
    repl.send("Enter")
    asked = repl.wait_for(r"\[E\]xecute", after=after)
    repl.send("e", literal=True)
    repl.send("Enter")
    return repl.wait_for(expect, after=asked.end()).end()


def test_lines_share_one_persistent_shell(repl: Tmux) -> None:
    """Variables, export, functions, aliases, source, cd -, $? carry over (one bash per session)."""
    repl.wait_for(EMPTY_PROMPT)
    at = _run_confirmed(repl, "x=41; export Y=exported; false", r"\[exit 1\]")
    at = _run_confirmed(repl, "echo status=$? sum=$((x + 1)) $(bash -c 'echo $Y')", r"^status=1 sum=42 exported", at)
    at = _run_confirmed(repl, "greet() { echo hi-$1; }; alias ll='echo aliased'", r"\(default\)\? e", at)
    at = _run_confirmed(repl, "greet there; ll", r"^hi-there\s*\naliased", at)
    at = _run_confirmed(repl, "echo 'sourced=yes' > vars.sh && source ./vars.sh && echo $sourced", r"^yes", at)
    at = repl.wait_for(EMPTY_PROMPT, after=at).start()
    repl.send("cd /tmp", literal=True)  # cd runs without a question
    repl.send("Enter")
    at = repl.wait_for(r"cd /tmp[ \t]*\n", after=at).end()
    at = _run_confirmed(repl, "cd - >/dev/null && basename $PWD", r"^work", at)
    repl.send(":quit", literal=True)
    repl.send("Enter")
    repl.wait_for(r"\[repl exit 0\]")


def test_ctrl_c_stops_the_command_not_the_shell_or_the_repl(repl: Tmux) -> None:
    repl.wait_for(EMPTY_PROMPT)
    at = _run_confirmed(repl, "kept=still-here", r"\(default\)\? e")
    at = repl.wait_for(EMPTY_PROMPT, after=at).start()
    repl.send("sleep 30", literal=True)
    repl.send("Enter")
    asked = repl.wait_for(r"\[E\]xecute", after=at)
    repl.send("e", literal=True)
    repl.send("Enter")
    time.sleep(0.5)
    repl.send("C-c")
    at = repl.wait_for(r"\[exit 130\]", after=asked.end(), timeout=10).end()
    _run_confirmed(repl, "echo $kept", r"^still-here", at)


def test_a_request_the_bundled_model_is_unsure_of_says_so_before_the_question(
    tmp_path: Path, bash_ai_home: Path
) -> None:
    """The bundled model in the REPL: an answer marked unsure (``Candidate.sure``) comes with its next
    two answers and the note above the run question; the default (Abort) runs nothing."""
    from bash_ai.paths import bundled_model_dir

    with running_repl(tmp_path, bash_ai_home, bundled_model_dir()) as term:
        term.wait_for(EMPTY_PROMPT)
        term.send("# show free memory", literal=True)
        term.send("Enter")
        alternatives = term.wait_for(r"alternative 2:(?s:.*)alternative 3:", timeout=60)
        assert "alternative 4:" not in term.screen()
        note = term.wait_for(r"unsure of it", after=alternatives.end())
        shown = term.wait_for(r"\[E\]xecute", after=note.end())
        term.send("Enter")
        term.wait_for(r"aborted", after=shown.end())
