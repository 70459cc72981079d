"""``bash-ai explain CMD``: English on stdout, the command's danger flags and syntax on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import one_error_line, run_cli


def test_explains_on_stdout(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir), "echo hello"], capsys)
    assert (run.code, run.out, run.err) == (0, "say hello\n", "")


def test_danger_flags_on_stderr(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir), "rm -rf ./*"], capsys)
    assert run.code == 0 and run.out == "delete everything here\n"
    assert any(line.startswith("bash-ai: danger:") for line in run.err.splitlines())


def test_command_from_stdin_and_syntax_warning(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir)], capsys, stdin=b"echo 'unterminated\n")
    assert run.code == 0 and run.out.strip()
    assert "not valid bash" in run.err


def test_empty_command_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(tiny_model_dir), "  "], capsys)
    assert run.code == 2 and "empty command" in one_error_line(run)
