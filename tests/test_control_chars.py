"""Terminal control characters in model text (issue 16): shown, flagged, and not generated.

The attack: a candidate ``touch M; echo safe #ESC[999DESC[2K  ESC[36mecho safe`` that a terminal
displayed as ``command: echo safe`` while ``touch M`` ran. What the user sees is read back with a
terminal emulator (pyte) from a real pty.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bash_ai.safety import assess
from bash_ai.safety.control import control_token_ids, has_control, request_wants_control, visible

ATTACK = "touch M; echo safe #\x1b[999D\x1b[2K  \x1b[36mecho safe"


def test_visible_shows_every_control_but_tab_and_newline() -> None:
    assert visible(ATTACK) == "touch M; echo safe #\\x1b[999D\\x1b[2K  \\x1b[36mecho safe"
    assert visible("a\rb\x07c\x08d\x7fe\x9bf\x00g") == "a\\rb\\ac\\bd\\x7fe\\x9bf\\x00g"
    assert visible("ls\t-l\n") == "ls\t-l\n" and visible("héllo ✓") == "héllo ✓"
    assert visible(visible(ATTACK)) == visible(ATTACK)
    assert has_control(ATTACK) and not has_control("ls -l\n\t")


def test_danger_rules_flag_control_characters_once() -> None:
    flags = assess(ATTACK)
    assert [f.rule_id for f in flags] == ["terminal-control"] and flags[0].severity == "high"
    assert ATTACK[flags[0].span[0] : flags[0].span[1]].startswith("\x1b")
    assert [f.rule_id for f in assess("printf 'a\\rb'")] == []  # the escape *text* is fine
    assert assess("echo $'\\x1b[31m'") == [] and assess("printf 'x\rY'")[0].rule_id == "terminal-control"


@pytest.mark.parametrize(
    ("request_text", "wants"),
    [
        ("print hello in red using ANSI escape codes", True),
        ("set the terminal title", True),
        ("make the prompt colorful", True),
        ("print the escape sequence \\x1b[2J", True),
        ("clear the line with \\e[2K", True),
        ("use tput to make text bold", True),
        ("list files sorted by size", False),
        ("show disk usage", False),
        ("escape the quotes in file.txt", False),
    ],
)
def test_request_wants_control(request_text: str, wants: bool) -> None:
    assert request_wants_control(request_text) is wants


def test_control_token_ids_are_exactly_the_tokens_with_control_bytes(tiny_model_dir: Path) -> None:
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    ids = control_token_ids(engine.tokenizer)
    assert ids.dtype == np.int64 and ids.size > 0 and engine.eot_id not in ids
    bad = set(ids.tolist())
    for token_id in range(engine.tokenizer.vocab_size):
        data = engine.tokenizer.token_bytes(token_id)
        has = any(b < 0x20 and b not in (0x09, 0x0A) or b == 0x7F for b in data) or any(
            data[i] == 0xC2 and 0x80 <= data[i + 1] <= 0x9F for i in range(len(data) - 1)
        )
        assert (token_id in bad) == has, (token_id, data)


def test_engine_never_samples_control_tokens_unless_asked(tiny_model_dir: Path) -> None:
    from bash_ai.engine import SamplingParams
    from bash_ai.engine.events import Finished
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))  # random-ish weights: control tokens come up when allowed
    params = SamplingParams(temperature=3.0, max_tokens=64, seed=1)
    ids = engine.task_ids("ask", "list files")
    free = [e.text for e in engine.stream(ids, params, 8) if isinstance(e, Finished)]
    assert any(has_control(t) for t in free)  # the test would prove nothing otherwise
    banned = [e.text for e in engine.stream(ids, params, 8, banned=engine.control_ids) if isinstance(e, Finished)]
    assert not any(has_control(t) for t in banned)
    assert engine.answer_bans("list files") is engine.control_ids
    assert engine.answer_bans("print hello in red with ANSI escape codes") is None
    answered = [e.text for e in engine.ask("list files", params, 8) if isinstance(e, Finished)]
    assert not any(has_control(t) for t in answered)


def test_every_render_path_shows_controls(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bash_ai.answer import check
    from bash_ai.term import render

    monkeypatch.setenv("NO_COLOR", "1")
    cand = check(ATTACK)
    render.show_command(cand.text)
    render.show_alternatives([cand, check("ls\rrm -rf ~")])
    render.show_text("it does \x1b]52;c;ZXZpbA==\x07 things", "it does")
    render.show_notes(cand, "the command")
    err = capsys.readouterr().err
    assert not has_control(err.replace("\n", ""))
    assert "touch M" in err and "\\x1b[2K" in err and "\\x1b]52;c;ZXZpbA==\\a" in err
    assert "ls\\rrm -rf ~" in err and "terminal control" in err


CHILD = textwrap.dedent(
    """
    import sys
    from bash_ai.answer import check
    from bash_ai.term.confirm import confirm_and_run
    from bash_ai.errors import Aborted
    try:
        confirm_and_run(check(sys.argv[1]), lambda c: "a description", yes=sys.argv[2:] == ["--yes"])
    except Aborted as exc:
        print("ABORTED:", exc, file=sys.stderr)
    """
)


def _screen(raw: bytes) -> str:
    import pyte

    screen = pyte.Screen(120, 30)
    stream = pyte.ByteStream(screen)
    stream.feed(raw.replace(b"\n", b"\r\n") if b"\r\n" not in raw else raw)
    return "\n".join(line.rstrip() for line in screen.display)


def test_confirm_prompt_in_a_real_terminal_shows_the_hidden_part(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="30")
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(sys.executable, ["-c", CHILD, ATTACK], cwd=str(tmp_path), env=env, dimensions=(30, 120))
    child.expect(r"\[A\]bort", timeout=30)
    shown = _screen(child.before + child.after)
    child.sendline("a")
    child.expect(pexpect.EOF, timeout=30)
    assert "touch M" in shown and "\\x1b[2K" in shown, shown
    assert "terminal control" in shown  # the danger flag
    assert not (tmp_path / "M").exists()


def test_yes_never_runs_a_command_with_controls_silently(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", CHILD, ATTACK, "--yes"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "refusing to run a command flagged dangerous" in done.stderr
    assert not (tmp_path / "M").exists()
