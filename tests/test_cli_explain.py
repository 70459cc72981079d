"""``bash-ai explain CMD``: the summary and the parts on stdout, danger flags and syntax on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import one_error_line, run_cli


@pytest.mark.tool("man")
def test_explains_on_stdout(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir), "echo hello"], capsys)
    assert (run.code, run.err) == (0, "")
    assert run.out == "say hello\n  echo  display a line of text\n"  # the model's summary, then echo(1)'s NAME


@pytest.mark.tool("man")
def test_danger_flags_on_stderr(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir), "rm -rf ./*"], capsys)
    assert run.code == 0 and run.out.splitlines()[:3] == [
        "delete everything here",
        "  rm   remove files or directories",
        "  -r   Remove directories and their contents recursively",
    ]
    assert any(line.startswith("bash-ai: danger:") for line in run.err.splitlines())


@pytest.mark.tool("man")
def test_json_has_the_summary_and_every_part(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    run = run_cli(["explain", "--json", "--model", str(trained_model_dir), "tar czf a.tgz dir | wc -c"], capsys)
    data = json.loads(run.out)
    assert run.code == 0 and set(data) == {"command", "summary", "summary_source", "parts", "syntax", "danger"}
    assert [p["text"] for p in data["parts"]] == ["tar", "-c", "-z", "-f a.tgz", "|", "wc", "-c"]
    assert {p["source"] for p in data["parts"]} == {"man", "fixed"}
    run = run_cli(["explain", "--summary", "parts", "--model", str(trained_model_dir), "tar czf a.tgz dir"], capsys)
    assert run.out.startswith("An archiving utility: create a new archive")
    run = run_cli(["explain", "--summary", "nonsense", "--model", str(trained_model_dir), "ls"], capsys)
    assert run.code == 2 and "unknown --summary" in one_error_line(run)


def test_command_from_stdin_and_syntax_warning(trained_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(trained_model_dir)], capsys, stdin=b"echo 'unterminated\n")
    assert run.code == 0 and run.out.strip()
    assert "not valid bash" in run.err
    refused = run_cli(["explain", "--model", str(trained_model_dir)], capsys, stdin=b"find . -type -f\n")
    assert refused.code == 0 and "will not run: find: invalid argument `-f' to `-type'" in refused.err


def test_empty_command_exit_2(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["explain", "--model", str(tiny_model_dir), "  "], capsys)
    assert run.code == 2 and "empty command" in one_error_line(run)
