"""Is it valid bash? Asked of the real ``bash -n`` (parse only, never execute) and of shellcheck;
a command ``bash -n`` passes is also read for a ``find`` expression that find would refuse
(``bash_ai.safety.find_expression``: ``find . -type -f``), which is no more use than a syntax error.

``bash -n`` reads the command on stdin and stops after parsing, so nothing in the command can
run. ``extglob`` is switched on first because interactive bash users have it and patterns such as
``!(*.txt)`` are otherwise a syntax error. One ``bash -n`` costs a fork+exec (a few ms), so batches
go through :func:`check_syntax_many` (concurrent, deduplicated, cached) and shellcheck, which is
slower to start, checks a whole batch in one process (:func:`shellcheck_many`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bash_ai.errors import BashAIError

SYNTAX_TIMEOUT = 5.0
SHELLCHECK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class SyntaxResult:
    ok: bool
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One shellcheck comment; ``code`` is the number in ``SC2086``."""

    code: int
    level: str  # "error", "warning", "info" or "style"
    message: str
    line: int
    column: int
    end_line: int
    end_column: int


class ShellcheckFindings(list[Finding]):
    """A list of findings that also says whether shellcheck could run at all."""

    def __init__(self, findings: Iterable[Finding] = (), *, available: bool = True, error: str | None = None) -> None:
        super().__init__(findings)
        self.available = available
        self.error = error


def _bash() -> str:
    path = shutil.which("bash")
    if path is None:
        raise BashAIError("bash is not installed (needed to check the syntax of commands)")
    return path


def _encode(command: str) -> bytes:
    return command.encode("utf-8", errors="replace")


@lru_cache(maxsize=4096)
def _check(command: str, timeout: float) -> SyntaxResult:
    if not command.strip():
        return SyntaxResult(False, "empty command")
    argv = ["bash", "--norc", "--noprofile", "-O", "extglob", "-n"]  # argv[0] names bash in messages
    try:
        proc = subprocess.run(
            argv, executable=_bash(), input=_encode(command), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return SyntaxResult(False, f"bash -n did not finish within {timeout:g}s")
    if proc.returncode == 0:
        from bash_ai.safety.find_expression import find_error

        error = find_error(command)  # valid bash that find itself would refuse
        return SyntaxResult(error is None, error)
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    message = lines[0] if lines else f"bash -n exited with status {proc.returncode}"
    return SyntaxResult(False, message.removeprefix("bash: "))


def check_syntax(command: str, *, timeout: float = SYNTAX_TIMEOUT) -> SyntaxResult:
    """Parse ``command`` with ``bash -n`` (and its ``find`` expressions). Whitespace-only input is not
    a command (ok=False)."""
    return _check(command, timeout)


def check_syntax_many(commands: Sequence[str], *, timeout: float = SYNTAX_TIMEOUT) -> list[SyntaxResult]:
    """``check_syntax`` for a batch: duplicates checked once, the rest in parallel processes."""
    unique = list(dict.fromkeys(commands))
    workers = max(1, min(len(unique), (os.cpu_count() or 1) * 2, 16))
    if workers == 1:
        results = {c: _check(c, timeout) for c in unique}
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = dict(zip(unique, pool.map(lambda c: _check(c, timeout), unique), strict=True))
    return [results[c] for c in commands]


def shellcheck_available() -> bool:
    return shutil.which("shellcheck") is not None


def _findings(comments: list[dict]) -> list[Finding]:
    return [
        Finding(
            code=int(c.get("code", 0)),
            level=str(c.get("level", "")),
            message=str(c.get("message", "")),
            line=int(c.get("line", 0)),
            column=int(c.get("column", 0)),
            end_line=int(c.get("endLine", c.get("line", 0))),
            end_column=int(c.get("endColumn", c.get("column", 0))),
        )
        for c in comments
    ]


def shellcheck_many(
    commands: Sequence[str], *, exclude: Iterable[int] = (), timeout: float = SHELLCHECK_TIMEOUT
) -> list[ShellcheckFindings]:
    """shellcheck every command in one process (one file each). Unavailable -> empty, flagged."""
    exe = shutil.which("shellcheck")
    if exe is None:
        return [ShellcheckFindings(available=False, error="shellcheck is not installed") for _ in commands]
    if not commands:
        return []
    with tempfile.TemporaryDirectory(prefix="bash-ai-shellcheck-") as tmp:
        paths = []
        for i, command in enumerate(commands):
            path = Path(tmp) / f"c{i}.sh"
            path.write_bytes(_encode(command))
            paths.append(path)
        argv = [exe, "-f", "json", "-s", "bash"]
        excluded = ",".join(str(code) for code in exclude)
        if excluded:
            argv += ["-e", excluded]
        try:
            proc = subprocess.run([*argv, *map(str, paths)], capture_output=True, timeout=timeout, check=False)
            comments = json.loads(proc.stdout or b"[]") if proc.returncode in (0, 1) else None
        except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as exc:
            return [ShellcheckFindings(available=False, error=f"shellcheck failed: {exc}") for _ in commands]
        if comments is None:
            err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
            msg = f"shellcheck failed: {err[0] if err else f'exit status {proc.returncode}'}"
            return [ShellcheckFindings(available=False, error=msg) for _ in commands]
        by_file: dict[str, list[dict]] = {str(p): [] for p in paths}
        for comment in comments:
            by_file.setdefault(str(comment.get("file")), []).append(comment)
        return [ShellcheckFindings(_findings(by_file[str(p)])) for p in paths]


def shellcheck_findings(
    command: str, *, exclude: Iterable[int] = (), timeout: float = SHELLCHECK_TIMEOUT
) -> ShellcheckFindings:
    """shellcheck's comments on one command (``.available`` is False when it is not installed)."""
    return shellcheck_many([command], exclude=exclude, timeout=timeout)[0]
