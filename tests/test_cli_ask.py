"""``bash-ai "request"``: stdout carries only the answer; everything else is one line on stderr.

Most tests run the real entry point (``bash_ai.cli.app.main``) in-process with real stdin bytes;
the ones about process boundaries (a terminal, exit status of a whole run) use subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import one_error_line, run_cli

from bash_ai.answer import MAX_REQUEST_BYTES, SHEBANG


def test_command_on_stdout_only(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(trained_model_dir), "say hello"], capsys)
    assert (run.code, run.out, run.err) == (0, "echo hello\n", "")


def test_script_request_gives_a_whole_checked_script(
    trained_model_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = run_cli(["--model", str(trained_model_dir), "create backup script"], capsys)
    assert run.code == 0, run.err
    assert run.out.startswith(SHEBANG + "\nset -euo pipefail\n")
    assert "tar czf backup.tgz docs" in run.out
    script = tmp_path / "backup.sh"
    script.write_text(run.out)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_request_from_stdin(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(trained_model_dir)], capsys, stdin=b"say hello\n")
    assert (run.code, run.out) == (0, "echo hello\n")


def test_json_schema(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(trained_model_dir), "--json", "-n", "3", "--temperature", "1.0", "say hello"], capsys)
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert set(doc) == {"schema", "request", "model", "truncated", "candidates"}
    assert doc["schema"] == 1 and doc["request"] == "say hello" and doc["truncated"] is False
    assert doc["model"]["path"] == str(trained_model_dir)
    texts = [c["text"] for c in doc["candidates"]]
    assert 1 <= len(texts) <= 3 and len(set(texts)) == len(texts)
    for c in doc["candidates"]:
        assert c["kind"] in ("command", "script")
        assert set(c["syntax"]) == {"ok", "message"} and isinstance(c["danger"], list)


def test_danger_flagged_on_stderr_answer_on_stdout(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(trained_model_dir), "delete everything here"], capsys)
    assert run.code == 0 and run.out == "rm -rf ./*\n"
    assert "bash-ai: danger:" in run.err


def test_alternatives_go_to_stderr(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(tiny_model_dir), "-n", "3", "--temperature", "1.5", "list files"], capsys)
    assert run.code == 0, run.err
    assert run.out.strip()  # the first candidate, whatever the random model said
    assert "Traceback" not in run.err


@pytest.mark.parametrize("request_text", ["", "   \t  "])
def test_empty_request_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str], request_text: str) -> None:
    run = run_cli(["--model", str(tiny_model_dir), request_text], capsys)
    assert run.code == 2 and run.out == ""
    assert "empty request" in one_error_line(run)


def test_empty_stdin_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(tiny_model_dir)], capsys, stdin=b"  \n")
    assert run.code == 2 and "empty request" in one_error_line(run)


def test_one_megabyte_request_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(tiny_model_dir)], capsys, stdin=b"list files " * 100_000)
    assert run.code == 2 and "too long" in one_error_line(run)
    run = run_cli(["--model", str(tiny_model_dir), "x" * (MAX_REQUEST_BYTES + 1)], capsys)
    assert run.code == 2 and "too long" in one_error_line(run)


def test_invalid_utf8_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(tiny_model_dir)], capsys, stdin=b"list \xff\xfe files")
    assert run.code == 2 and "UTF-8" in one_error_line(run)


def test_request_longer_than_context_is_truncated_with_a_warning(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = "please list all of the files in this directory sorted by size " * 40  # far over 64 tokens
    run = run_cli(["--model", str(tiny_model_dir), "--json", request], capsys)
    assert run.code == 0, run.err
    assert json.loads(run.out)["truncated"] is True
    warnings = [line for line in run.err.splitlines() if "context" in line]
    assert len(warnings) == 1 and warnings[0].startswith("bash-ai: warning:")


def test_missing_model_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["--model", str(tmp_path / "nope"), "list files"], capsys)
    assert run.code == 3 and run.out == ""
    one_error_line(run)


@pytest.mark.parametrize("damage", ["config", "weights", "tokenizer"])
def test_corrupt_model_exit_3(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    target = {"config": "config.json", "weights": "model.safetensors", "tokenizer": "tokenizer.bashai.json"}[damage]
    data = (broken / target).read_bytes()
    (broken / target).write_bytes(data[: len(data) // 2])
    run = run_cli(["--model", str(broken), "list files"], capsys)
    assert run.code == 3 and run.out == ""
    one_error_line(run)


def _subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    return {**env, "BASH_AI_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}


def run_without_terminal(model_dir: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``bash-ai --model DIR ARGS`` in a new session: stdin is /dev/null, no controlling terminal."""
    return subprocess.run(
        [sys.executable, "-m", "bash_ai", "--model", str(model_dir), *args],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
    )


def test_run_without_a_terminal_never_executes(trained_model_dir: Path, tmp_path: Path) -> None:
    result = run_without_terminal(trained_model_dir, tmp_path, "--run", "make a marker file")
    assert result.returncode == 6, result.stderr
    assert not (tmp_path / "marker.txt").exists()
    assert "touch marker.txt" in result.stderr and result.stdout == ""


def test_run_yes_executes_a_safe_command(trained_model_dir: Path, tmp_path: Path) -> None:
    result = run_without_terminal(trained_model_dir, tmp_path, "--run", "--yes", "make a marker file")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "marker.txt").exists()


def test_run_yes_refuses_a_dangerous_command_without_a_terminal(trained_model_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    result = run_without_terminal(trained_model_dir, tmp_path, "--run", "--yes", "delete everything here")
    assert result.returncode == 6, result.stderr
    assert victim.read_text() == "precious"
    assert "dangerous" in result.stderr


def _answer_in_a_pty(
    program: str, args: list[str], cwd: Path, key: str, then: str | None = None, shown: str | None = None
) -> int:
    """Run ``program ARGS`` in a real terminal, see ``shown`` (a pattern) before the question if
    given, answer with ``key``, wait for ``then`` if given; the exit status."""
    pexpect = pytest.importorskip("pexpect")
    env = _subprocess_env(cwd)
    child = pexpect.spawn(program, args, cwd=str(cwd), env=env, encoding="utf-8", timeout=20)
    if shown is not None:
        child.expect(shown)
    child.expect(r"\[E\]xecute")
    child.sendline(key)
    if then is not None:
        child.expect(then)
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def test_run_confirmed_on_a_terminal(trained_model_dir: Path, tmp_path: Path) -> None:
    args = ["-m", "bash_ai", "--model", str(trained_model_dir), "--run", "say hello"]
    assert _answer_in_a_pty(sys.executable, args, tmp_path, "e", r"\r\nhello\r\n") == 0
    assert _answer_in_a_pty(sys.executable, args, tmp_path, "", "aborted") == 6  # Enter: the default is Abort


def test_run_with_the_request_piped_in_asks_on_the_terminal(trained_model_dir: Path, tmp_path: Path) -> None:
    """stdin is the pipe that brought the request; the question goes to /dev/tty (as git, sudo)."""
    import shlex

    model = shlex.quote(str(trained_model_dir))
    cmd = f"echo 'say hello' | {shlex.quote(sys.executable)} -m bash_ai --model {model} --run"
    assert _answer_in_a_pty("sh", ["-c", cmd], tmp_path, "e", r"\r\nhello\r\n") == 0
    # stderr sent away: the command is still shown on the terminal, where the question is asked.
    shown = r"command:\r\n  echo hello\r\n"
    assert _answer_in_a_pty("sh", ["-c", cmd + " 2>/dev/null"], tmp_path, "a", shown=shown) == 6


def test_run_describe_then_modify_then_execute(trained_model_dir: Path, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    args = ["-m", "bash_ai", "--model", str(trained_model_dir), "--run", "say hello"]
    child = pexpect.spawn(
        sys.executable, args, cwd=str(tmp_path), env=_subprocess_env(tmp_path), encoding="utf-8", timeout=20
    )
    child.expect(r"\[E\]xecute")
    child.sendline("d")
    child.expect("it does: say hello")  # the reverse direction, from the same model
    child.expect(r"\[E\]xecute")
    child.sendline("m")
    child.expect("edit> ")
    child.send("\x15")  # Ctrl-U: clear the pre-filled command
    child.sendline("echo changed ${OPENBLAS_NUM_THREADS-unset}; exit 3")
    child.expect(r"exit 3")
    child.expect(r"\[E\]xecute")
    child.sendline("e")
    child.expect(r"\r\nchanged unset\r\n")  # our one-thread BLAS setting does not leak into commands
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3  # the command's own status


def test_dangerous_yes_on_a_terminal_still_asks(trained_model_dir: Path, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    args = ["-m", "bash_ai", "--model", str(trained_model_dir), "--run", "--yes", "delete everything here"]
    child = pexpect.spawn(
        sys.executable, args, cwd=str(tmp_path), env=_subprocess_env(tmp_path), encoding="utf-8", timeout=20
    )
    child.expect(r"\[E\]xecute")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 6 and victim.exists()


def test_the_command_table_is_what_each_module_registers() -> None:
    """``COMMANDS`` names each module's commands so that a line can build its own alone."""
    import importlib

    import typer

    from bash_ai.cli.app import COMMANDS

    for module, commands in COMMANDS.items():
        app = typer.Typer()
        importlib.import_module(f"bash_ai.cli.{module}").register(app)
        registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
        assert registered == set(commands), module


def test_a_request_builds_only_the_ask_command(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = (
        "import sys; from bash_ai.cli import app; built = []; real = app.build_app;"
        "app.build_app = lambda modules=tuple(app.COMMANDS): built.append(modules) or real(modules);"
        "sys.argv = ['bash-ai', '--model', sys.argv[1], 'say hello'];"
        "\ntry: app.main()\nexcept SystemExit: pass\nprint(built, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tiny_model_dir)], capture_output=True, text=True, check=True)
    assert done.stdout.strip()
    assert done.stderr.strip().splitlines()[-1] == "[('ask',)]"
    run = run_cli(["--help"], capsys)
    assert run.code == 0 and all(name in run.out for name in ("ask", "models", "shell-init", "serve"))


def test_an_unsure_answer_on_a_terminal_comes_with_two_alternatives(tmp_path: Path) -> None:
    """The bundled model in a real terminal: a first answer marked unsure gets the note and the next
    two answers on stderr; a sure one comes alone; without a terminal the unsure one comes alone too
    (stdout holds the answer in every case)."""
    pexpect = pytest.importorskip("pexpect")
    from bash_ai.term.render import unsure_text

    env = {**_subprocess_env(tmp_path), "NO_COLOR": "1", "TERM": "xterm"}
    env.pop("BASH_AI_MODEL", None)
    unsure, sure = "show free memory", "find files larger than 100MB"
    seen = {}
    for request in (unsure, sure):
        child = pexpect.spawn(
            sys.executable, ["-m", "bash_ai", request], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=60
        )
        child.expect(pexpect.EOF)
        seen[request] = child.before.replace("\r\n", "\n")
    assert (
        "alternative 2:" in seen[unsure] and "alternative 3:" in seen[unsure] and "alternative 4:" not in seen[unsure]
    )
    assert unsure_text() in seen[unsure]
    assert "alternative" not in seen[sure] and unsure_text() not in seen[sure]
    piped = subprocess.run(
        [sys.executable, "-m", "bash_ai", unsure], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert piped.returncode == 0 and "alternative" not in piped.stderr and unsure_text() in piped.stderr
    assert piped.stdout.strip() and piped.stdout.strip() in seen[unsure]  # the same first answer
