"""Execution tasks: does a candidate command *do* what was asked? Judged in the sandbox.

Each task (``tasks.json``) has a request, the files to create in an empty work directory, a
reference command, and how to compare effects. The reference and the candidate each run in a
fresh copy of that directory (never outside the sandbox); the candidate passes when its effect
matches the reference's:

- ``stdout``: same output once each line is stripped and trailing blank lines dropped (``wc``
  pads on some systems), and the same resulting files;
- ``stdout_unordered``: as ``stdout`` but lines compared as a sorted list with any leading
  ``./`` removed (``find`` order is the directory order, ``find .`` vs ``find *`` prefixes);
- ``tree``: the same resulting files (paths, contents, owner-executable bit, link targets).

It must also succeed or fail as the reference does (exit status zero or not) and not time out.
"""

from __future__ import annotations

import json
import stat
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path, PurePosixPath

from bash_ai.errors import DataError
from bash_ai.evaluation.fstree import remove_tree, snapshot
from bash_ai.evaluation.sandbox import SandboxResult, ensure_sandbox, run_sandboxed

COMPARE_MODES = ("stdout", "stdout_unordered", "tree")


@dataclass(frozen=True)
class ExecTask:
    id: str
    request: str
    reference: str
    compare: str
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text content
    dirs: tuple[str, ...] = ()  # extra (empty) directories
    executable: tuple[str, ...] = ()  # files created with the executable bit


@dataclass(frozen=True)
class TaskResult:
    passed: bool
    details: str
    reference: SandboxResult
    candidate: SandboxResult


def _relative(task_id: str, path: str) -> str:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts:
        raise DataError(f"task {task_id}: setup path {path!r} must be relative and stay inside the work dir")
    return str(pure)


def _task(raw: dict) -> ExecTask:
    try:
        task = ExecTask(
            id=str(raw["id"]),
            request=str(raw["request"]),
            reference=str(raw["reference"]),
            compare=str(raw.get("compare", "stdout")),
            files={_relative(raw["id"], k): str(v) for k, v in raw.get("files", {}).items()},
            dirs=tuple(_relative(raw["id"], d) for d in raw.get("dirs", ())),
            executable=tuple(_relative(raw["id"], e) for e in raw.get("executable", ())),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"malformed task {raw.get('id', '?') if isinstance(raw, dict) else raw!r}: {exc}") from exc
    if task.compare not in COMPARE_MODES:
        raise DataError(f"task {task.id}: compare must be one of {', '.join(COMPARE_MODES)}")
    return task


def load_tasks(path: Path | None = None) -> list[ExecTask]:
    """The curated tasks shipped with bash-ai, or those of another file in the same format."""
    try:
        if path is None:
            text = files("bash_ai.evaluation").joinpath("tasks.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
        raw_tasks = data["tasks"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the execution tasks: {exc}") from exc
    tasks = [_task(raw) for raw in raw_tasks]
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise DataError("execution task ids must be unique")
    return tasks


def materialize(task: ExecTask, directory: Path) -> None:
    """Create the task's files in ``directory`` (which should be empty)."""
    for rel in task.dirs:
        (directory / rel).mkdir(parents=True, exist_ok=True)
    for rel, content in task.files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    for rel in task.executable:
        path = directory / rel
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def tree_snapshot(directory: Path) -> dict[str, str]:
    """Relative path -> ``dir`` | ``file <sha256> <x|->`` | ``link <target>``, for comparison
    (``bash_ai.evaluation.fstree``: links never followed, depth bounded)."""
    return snapshot(directory)


def normalize_stdout(text: str, *, unordered: bool = False) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if unordered:
        lines = sorted(line.removeprefix("./") for line in lines if line)
    return lines


def _remove(path: Path) -> None:
    """Delete a work dir whatever the command left in it (locked directories, links to host
    directories, very deep trees): ``fstree.remove_tree`` never follows a link."""
    remove_tree(path)


def _run_in_fresh_copy(task: ExecTask, command: str, timeout: float) -> tuple[SandboxResult, dict[str, str]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bash-ai-task-{task.id}-"))
    try:
        materialize(task, workdir)
        result = run_sandboxed(command, workdir, timeout=timeout)
        return result, tree_snapshot(workdir)
    finally:
        _remove(workdir)


def _short(lines: list[str]) -> str:
    text = "\n".join(lines)
    return repr(text if len(text) <= 120 else text[:117] + "...")


def _tree_diff(want: dict[str, str], got: dict[str, str]) -> str:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(p for p in set(want) & set(got) if want[p] != got[p])
    parts = [
        f"{label}: {', '.join(paths[:5])}"
        for label, paths in (("missing", missing), ("unexpected", extra), ("changed", changed))
        if paths
    ]
    return "files differ (" + "; ".join(parts) + ")"


def run_task(task: ExecTask, command: str, timeout: float = 5.0) -> TaskResult:
    """Run the reference and ``command`` in fresh sandboxed copies of the task, compare effects."""
    ensure_sandbox()
    reference, ref_tree = _run_in_fresh_copy(task, task.reference, timeout)
    if reference.timed_out or reference.returncode != 0:
        raise DataError(f"task {task.id}: the reference command failed ({reference.stderr.strip()[:200]})")
    candidate, cand_tree = _run_in_fresh_copy(task, command, timeout)
    problems = []
    if candidate.timed_out:
        problems.append(f"timed out after {timeout:g}s")
    elif candidate.returncode != 0:
        problems.append(f"exit status {candidate.returncode} (the reference succeeded)")
    if task.compare in ("stdout", "stdout_unordered"):
        unordered = task.compare == "stdout_unordered"
        want = normalize_stdout(reference.stdout, unordered=unordered)
        got = normalize_stdout(candidate.stdout, unordered=unordered)
        if want != got:
            problems.append(f"output differs: expected {_short(want)}, got {_short(got)}")
    if ref_tree != cand_tree:
        problems.append(_tree_diff(ref_tree, cand_tree))
    details = "; ".join(problems) if problems else "same effect as the reference"
    return TaskResult(not problems, details, reference, candidate)
