"""``bash-ai shell-init``: real bash, zsh and fish in tmux; type a request, press Ctrl-G, read the line."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_repl_tmux import Tmux

from bash_ai.cli.shell_init import looks_like_command, parse_key, snippet
from bash_ai.errors import BashAIError, UsageError

BIN = str(Path(sys.executable).parent)
INIT = {
    "bash": 'eval "$(bash-ai shell-init bash{args})"',
    "zsh": 'eval "$(bash-ai shell-init zsh{args})"',
    "fish": "bash-ai shell-init fish{args} | source",
}
START = {
    "bash": "PS1='% ' bash --norc --noprofile",
    "zsh": "PROMPT='%% ' zsh -f",
    "fish": "fish --no-config -C \"function fish_prompt; printf '%s' '% '; end\"",
}


def _shell(tmp_path: Path, home: Path, shell: str, args: str = "") -> Tmux:
    env = {
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "BASH_AI_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PS1": "% ",
        "PROMPT": "% ",
    }
    term = Tmux(tmp_path, env)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    term.start(f"cd {shlex.quote(str(work))} && {START[shell]}")
    term.wait_for(r"^%( |$)", timeout=15)
    term.send(INIT[shell].format(args=args), literal=True)
    term.send("Enter")
    return term


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.tool(name, "tmux")) for name in START])
def shell(request: pytest.FixtureRequest, tmp_path: Path, bash_ai_home: Path) -> Iterator[tuple[str, Tmux]]:
    name = request.param
    term = _shell(tmp_path, bash_ai_home, name)
    try:
        yield name, term
    finally:
        term.kill()


def test_the_key_replaces_the_line_with_the_answer_and_runs_nothing(shell: tuple[str, Tmux], tmp_path: Path) -> None:
    name, term = shell
    ready = term.wait_for(r"^%[ \t]*$", timeout=15)  # the prompt after the init line
    term.send("find files larger than 100MB; touch ran", literal=True)
    term.send("C-g")
    line = term.wait_for(r"^% find \. -size \+100M[ \t]*$", after=ready.start(), timeout=20)
    assert not (tmp_path / "work" / "ran").exists()
    # The cursor is at the end of the new line, and nothing ran: no new prompt below it. fish may
    # paint the line before it moves the cursor there (seen once in CI: column 0 just after).
    end = len("% find . -size +100M")
    assert term.wait_for_cursor(beyond=end - 1, timeout=5) == end
    assert "% " not in term.screen()[line.end() :].replace("\n", "").strip()[:2]


@pytest.mark.tool("bash", "tmux")
def test_a_failure_keeps_the_users_line(tmp_path: Path, bash_ai_home: Path) -> None:
    term = _shell(tmp_path, bash_ai_home, "bash", args=" --model /no/such/model")
    try:
        ready = term.wait_for(r"^%[ \t]*$", timeout=15)
        term.send("list files by size", literal=True)
        term.send("C-g")
        error = term.wait_for(r"bash-ai: error: .*no/such/model", after=ready.start(), timeout=20)
        term.wait_for(r"^% list files by size[ \t]*$", after=error.end(), timeout=10)
    finally:
        term.kill()


def test_snippets_use_the_shells_own_mechanisms_and_the_chosen_key() -> None:
    assert "bind -x '\"\\C-t\": __bash_ai_line'" in snippet("bash", "ctrl-t", command="bash-ai")
    assert "READLINE_LINE" in snippet("bash", command="bash-ai") and "READLINE_POINT" in snippet("bash", command="x")
    zsh = snippet("zsh", "^G", command="bash-ai")
    assert "zle -N __bash_ai_line" in zsh and "bindkey '^G' __bash_ai_line" in zsh and "BUFFER=$new" in zsh
    fish = snippet("fish", "C-g", command="bash-ai", model="my model")
    assert (
        "commandline -r -- (string join" in fish and "bind \\cg __bash_ai_line" in fish and "--model 'my model'" in fish
    )
    assert "shell_client.py" in fish and " -S -I " in fish  # the warm path: the small client
    for bad in ("alt-g", "ctrl-gg", "F5"):
        with pytest.raises(UsageError, match="Ctrl and one letter"):
            parse_key(bad)
    with pytest.raises(UsageError, match="unknown shell"):
        snippet("tcsh")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("find . -na", True),
        ("ls", True),
        ("grep -r TODO", True),
        ("tar czf a.tgz ./dir", True),
        ("find all python files", False),
        ("list files sorted by size", False),
        ("show disk usage", False),
        ("sort the lines of names.txt", False),
    ],
)
def test_partial_commands_are_told_from_requests(line: str, command: bool) -> None:
    assert looks_like_command(line) is command


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.tool(n, "tmux")) for n in START])
def test_a_running_helper_answers_the_key_without_starting_bash_ai(
    name: str, tmp_path: Path, bash_ai_home: Path
) -> None:
    """The snippet's cold path is broken on purpose (a model that does not exist): the line can
    only be replaced through the warm helper (bash /dev/tcp, zsh ztcp, fish the small client). A
    stale helper file falls back to the cold path."""
    import subprocess
    import time

    from bash_ai.cli.shell_init import helper_file

    env = {**os.environ, "BASH_AI_HOME": str(bash_ai_home), "PATH": f"{BIN}:{os.environ['PATH']}"}
    helper = subprocess.Popen(
        [sys.executable, "-m", "bash_ai", "shell-helper"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert helper.stderr is not None and "ready on 127.0.0.1:" in helper.stderr.readline()
        where = helper_file()
        assert where.is_file() and (where.stat().st_mode & 0o777) == 0o600
        _key_turns_the_request(_shell(tmp_path, bash_ai_home, name, args=" --model /no/such/model"))
    finally:
        helper.terminate()
        helper.wait(10)
    deadline = time.monotonic() + 5
    while where.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not where.exists()  # the helper removes its file when stopped

    where.write_text("1 stale-token\n")  # nothing listens on port 1: the cold path answers
    again = tmp_path / "again"  # a second tmux server: its own socket directory
    again.mkdir()
    _key_turns_the_request(_shell(again, bash_ai_home, name))


def _key_turns_the_request(term: Tmux) -> None:
    """At the prompt, type the README's request, press Ctrl-G, see its answer as the line; stop the shell."""
    try:
        ready = term.wait_for(r"^%[ \t]*$", timeout=15)
        term.send("find files larger than 100MB", literal=True)
        term.send("C-g")
        term.wait_for(r"^% find \. -size \+100M[ \t]*$", after=ready.start(), timeout=20)
    finally:
        term.kill()


def test_the_fish_client_speaks_the_helper_protocol(tmp_path: Path) -> None:
    """The small client against a real loopback server: answer, error, a stranger, no helper."""
    import base64
    import socket
    import subprocess
    import threading

    from bash_ai import shell_client

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    replies = [f"OK {b64('ls -S')} {b64('danger: none')}\n", f"ERR {b64('bash-ai: error: boom')} -\n", "HTTP/1.1 400\n"]
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[str] = []

    def serve() -> None:
        for reply in replies:
            conn, _ = server.accept()
            with conn, conn.makefile("rwb") as stream:
                seen.append(stream.readline().decode())
                stream.write(reply.encode())

    threading.Thread(target=serve, daemon=True).start()
    helper = tmp_path / "helper"
    helper.write_text(f"{server.getsockname()[1]} secret\n")

    def client(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-S", "-I", shell_client.__file__, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=20)

    ok = client(str(helper), "--", "list files by size")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "ls -S", "danger: none\n")
    assert seen[0] == f"secret {b64('list files by size')}\n"
    err = client(str(helper), "--", "x")
    assert (err.returncode, err.stdout, err.stderr) == (2, "", "bash-ai: error: boom\n")
    assert client(str(helper), "--", "x").returncode == 1  # not our helper: the cold path answers
    server.close()
    assert client(str(tmp_path / "missing"), "--", "x").returncode == 1
    assert client(str(helper), "--", "x").returncode == 1  # nobody listens any more


def test_the_helper_skips_shellcheck_but_keeps_the_danger_flags(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper's reply carries only the danger flags, so it does not run shellcheck for it."""
    from bash_ai import safety
    from bash_ai.cli.shell_init import turn_line
    from bash_ai.registry import load

    linted: list[list[str]] = []
    real = safety.shellcheck_many

    def spy(texts: list[str]) -> object:
        linted.append(list(texts))
        return real(texts)

    monkeypatch.setattr(safety, "shellcheck_many", spy)
    engine = load(str(trained_model_dir))
    line, best = turn_line(engine, "delete everything here", lint=False)
    assert line == best.text == "rm -rf ./*" and best.danger and best.shellcheck == [] and linted == []
    _, cold = turn_line(engine, "delete everything here")  # the cold path (shell-line) lints
    assert linted == [["rm -rf ./*"]] and cold.danger == best.danger


def test_the_helpers_reply_notes_the_programs_this_machine_lacks(tmp_path: Path, bash_ai_home: Path) -> None:
    """A real helper whose PATH holds bash alone: the answer's programs are missing, and its reply's
    notes (printed above the prompt by the snippet) say so."""
    import base64
    import shutil
    import socket
    import subprocess

    from bash_ai.cli.shell_init import helper_file

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "bash").symlink_to(shutil.which("bash") or "/bin/bash")
    env = {**os.environ, "BASH_AI_HOME": str(bash_ai_home), "PATH": str(folder)}
    helper = subprocess.Popen(
        [sys.executable, "-m", "bash_ai", "shell-helper"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert helper.stderr is not None and "ready on 127.0.0.1:" in helper.stderr.readline()
        port, token = helper_file().read_text().split()
        with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as conn:
            line = base64.b64encode(b"show disk usage").decode()
            conn.sendall(f"{token} {line}\n".encode())
            reply = conn.makefile("rb").readline().decode().split()
    finally:
        helper.terminate()
        helper.wait(10)
    assert reply[0] == "OK" and base64.b64decode(reply[1]).decode()
    notes = base64.b64decode(reply[2]).decode()
    missing = [n for n in notes.split("\n") if n.startswith("warning: the answer runs ")]
    assert len(missing) == 1 and missing[0].endswith(", not installed here"), notes


def _fake_turn(calls: list[str], seconds: float = 0.05):  # type: ignore[no-untyped-def]
    """A stand-in for the model's answer: records each line it starts, stops when cancelled."""
    import threading

    from bash_ai.errors import GenerationError

    def turn(engine: object, line: str, lint: bool = True, cancel: threading.Event | None = None) -> tuple[str, None]:
        calls.append(line)
        if line == "bad line":
            raise GenerationError("no answer")
        if cancel is not None and cancel.wait(seconds):
            return "", None
        return line.upper(), None

    return turn


def _settled(answers: object, line: str, seconds: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while line not in answers._done and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)


def test_a_line_answered_ahead_is_kept_for_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from bash_ai.cli import shell_init

    calls: list[str] = []
    monkeypatch.setattr(shell_init, "turn_line", _fake_turn(calls))
    answers = shell_init.Answers(engine=None)
    try:
        answers.ahead("list files by size")
        _settled(answers, "list files by size")
        assert answers.key("list files by size") == (("LIST FILES BY SIZE", ""), "kept")
        assert answers.key("show disk usage") == (("SHOW DISK USAGE", ""), "now")
        assert answers.key("show disk usage")[1] == "kept"
        assert calls == ["list files by size", "show disk usage"]  # each line answered once
    finally:
        answers.close()


def test_a_helper_that_keeps_nothing_answers_every_press_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    from bash_ai.cli import shell_init

    calls: list[str] = []
    monkeypatch.setattr(shell_init, "turn_line", _fake_turn(calls))
    answers = shell_init.Answers(engine=None, keep=0)
    try:
        assert [answers.key("show disk usage")[1] for _ in range(2)] == ["now", "now"]
        assert calls == ["show disk usage"] * 2
    finally:
        answers.close()


def test_only_the_last_line_typed_is_answered_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    from bash_ai.cli import shell_init

    calls: list[str] = []
    monkeypatch.setattr(shell_init, "turn_line", _fake_turn(calls))
    answers = shell_init.Answers(engine=None)
    try:
        for typed in ("list files", "list files by", "list files by size"):  # faster than the pause
            answers.ahead(typed)
        assert answers.key("list files by size")[0] == ("LIST FILES BY SIZE", "")
        assert calls == ["list files by size"]
        # A command as typed, one word, and an empty line are not answered ahead.
        for typed in ("ls -la", "list", "   "):
            answers.ahead(typed)
        assert calls == ["list files by size"]
    finally:
        answers.close()


def test_the_key_for_another_line_cancels_the_work_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from bash_ai.cli import shell_init

    calls: list[str] = []
    monkeypatch.setattr(shell_init, "turn_line", _fake_turn(calls, seconds=30))
    answers = shell_init.Answers(engine=None)
    try:
        answers.ahead("find big files")
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:  # its answer has started
            time.sleep(0.01)
        began = time.monotonic()
        monkeypatch.setattr(shell_init, "turn_line", _fake_turn(calls, seconds=0))
        assert answers.key("show disk usage") == (("SHOW DISK USAGE", ""), "now")
        assert time.monotonic() - began < 5  # not after the 30 s of the line typed before
        assert "find big files" not in answers._done  # cancelled work is not kept
        with pytest.raises(BashAIError, match="no answer"):
            answers.key("bad line")
        answers.ahead("bad line")  # an error ahead is not kept: the key reports it
        with pytest.raises(BashAIError, match="no answer"):
            answers.key("bad line")
    finally:
        answers.close()


@pytest.mark.tool("zsh", "tmux")
def test_zsh_sends_the_line_as_it_is_typed_and_the_key_finds_it_answered(tmp_path: Path, bash_ai_home: Path) -> None:
    """Real zsh and a real helper (the cold path broken on purpose): typed, a pause, the key; the
    helper says the answer was ready. With ``--no-ahead`` the key's line is answered when pressed."""
    import subprocess
    import time

    env = {**os.environ, "BASH_AI_HOME": str(bash_ai_home), "PATH": f"{BIN}:{os.environ['PATH']}"}
    helper = subprocess.Popen(
        [sys.executable, "-m", "bash_ai", "shell-helper", "-v"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert helper.stderr is not None and "ready on 127.0.0.1:" in helper.stderr.readline()
        typed = (
            ("find files larger than 100MB", r"find \. -size \+100M", ""),
            ("make script.sh executable", r"chmod \+x script\.sh", " --no-ahead"),
        )
        for n, (line, answered, more) in enumerate(typed):
            place = tmp_path / str(n)  # a tmux server each: its own socket directory
            place.mkdir()
            term = _shell(place, bash_ai_home, "zsh", args=f" --model /no/such/model{more}")
            try:
                ready = term.wait_for(r"^%[ \t]*$", timeout=15)
                term.send(line, literal=True)
                term.wait_for(rf"^% {line}", after=ready.start(), timeout=10)
                time.sleep(3)  # the user pauses: an answer ahead is ready by then
                term.send("C-g")
                term.wait_for(rf"^% {answered}[ \t]*$", after=ready.start(), timeout=20)
            finally:
                term.kill()
    finally:
        helper.terminate()
        helper.wait(10)
    said = [line for line in helper.stderr.read().splitlines() if line.startswith("key: ")]
    assert said[0].startswith("key: kept,") and said[0].endswith("'find files larger than 100MB'")
    assert said[1].startswith("key: now,") and said[1].endswith("'make script.sh executable'")  # nothing ahead


def test_a_cancelled_answer_stops_before_its_ranking_and_gives_nothing() -> None:
    """The helper cancels work for a line typed before another: the bundled model's answer then
    ends after its beams (no ranking, no checks), and ``turn_line`` says so instead of answering."""
    import threading

    from bash_ai.answer import answer
    from bash_ai.cli.shell_init import turn_line
    from bash_ai.engine.propose import propose
    from bash_ai.errors import GenerationError
    from bash_ai.registry import load

    engine = load("bundled")
    stopped = threading.Event()
    stopped.set()
    assert propose(engine, "find files larger than 100MB", cancel=stopped) == []
    assert answer(engine, "find files larger than 100MB", 1, cancel=stopped) == []
    with pytest.raises(GenerationError, match="stopped"):
        turn_line(engine, "find files larger than 100MB", lint=False, cancel=stopped)
    assert turn_line(engine, "find . -na", lint=False, cancel=stopped) == ("find . -na", None)  # completed with nothing
    assert turn_line(engine, "find files larger than 100MB", lint=False)[0] == "find . -size +100M"


def test_the_helper_takes_lines_ahead_without_replying_and_ignores_strangers(bash_ai_home: Path) -> None:
    """The protocol of a real helper: a line sent ``ahead`` gets no reply, and the key for it finds
    it answered; a message with another third word, or another token, gets nothing at all."""
    import base64
    import socket
    import subprocess
    import time

    from bash_ai.cli.shell_init import helper_file

    env = {**os.environ, "BASH_AI_HOME": str(bash_ai_home), "PATH": f"{BIN}:{os.environ['PATH']}"}
    helper = subprocess.Popen(
        [sys.executable, "-m", "bash_ai", "shell-helper", "-v"], env=env, stderr=subprocess.PIPE, text=True
    )

    def say(message: str) -> str:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=60) as conn:
            conn.sendall(message.encode())
            return conn.makefile("rb").readline().decode()

    try:
        assert helper.stderr is not None and "ready on 127.0.0.1:" in helper.stderr.readline()
        port, token = helper_file().read_text().split()
        line = base64.b64encode(b"find files larger than 100MB").decode()
        assert say(f"{token} {line} ahead\n") == ""  # closed with nothing said
        time.sleep(3)  # the answer ahead ends meanwhile
        reply = say(f"{token} {line}\n").split()
        assert reply[0] == "OK" and base64.b64decode(reply[1]).decode() == "find . -size +100M"
        assert say(f"{token} {line} now\n") == ""
        assert say(f"{'0' * len(token)} {line}\n") == ""
    finally:
        helper.terminate()
        helper.wait(10)
    said = [x for x in helper.stderr.read().splitlines() if x.startswith("key: ")]
    assert len(said) == 1 and said[0].startswith("key: kept,"), said
