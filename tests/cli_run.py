"""Run the real ``bash-ai`` entry point in-process, with real stdin bytes, for fast CLI tests."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: bytes = b"",
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> Run:
    """The real ``main`` with ``stdin`` as a pipe; exit code, stdout and stderr."""
    from bash_ai.cli.app import main

    mp = monkeypatch or pytest.MonkeyPatch()
    mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if monkeypatch is None:
            mp.undo()
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def one_error_line(run: Run) -> str:
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert lines[0].startswith("bash-ai: error: ")
    return lines[0]
