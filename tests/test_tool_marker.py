"""The ``tool`` marker: a missing system program skips a test on a fresh machine, fails it in CI.

Run for real: pytest in a subprocess on a small test file, with this repository's conftest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import pytest

@pytest.mark.tool("no-such-tool-bash-ai")
def test_needs_a_missing_tool():
    pass

@pytest.mark.tool("bash")
def test_needs_bash():
    pass
"""


def _run(tmp_path: Path, ci: bool, path: str | None = None) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_probe.py"
    test.write_text(PROBE)
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    env = {k: v for k, v in os.environ.items() if k != "BASH_AI_CI"}
    if ci:
        env["BASH_AI_CI"] = "1"
    if path is not None:
        env["PATH"] = path
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test)]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_missing_tool_skips_with_a_reason(tmp_path: Path) -> None:
    done = _run(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "needs no-such-tool-bash-ai (not installed; .ci/run installs it)" in done.stdout


def test_missing_tool_fails_in_ci(tmp_path: Path) -> None:
    done = _run(tmp_path, ci=True)
    assert done.returncode == 1 and "1 passed, 1 error" in done.stdout, done.stdout  # fails in setup
    assert "CI: needs no-such-tool-bash-ai" in done.stdout


def test_a_path_without_the_tool_skips_the_real_suites(tmp_path: Path) -> None:
    """The sandbox and tmux tests on a PATH holding only bash: skipped, not failed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bash", "sh"):
        found = shutil.which(name)
        if found:
            (bin_dir / name).symlink_to(found)
    env = {k: v for k, v in os.environ.items() if k != "BASH_AI_CI"}
    env["PATH"] = f"{bin_dir}:{Path(sys.executable).parent}"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-k",
        "not environ",
        "tests/test_sandbox.py",
        "tests/test_repl_tmux.py",
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "needs bwrap (not installed" in done.stdout and "needs tmux (not installed" in done.stdout
    assert " failed" not in done.stdout
