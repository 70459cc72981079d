"""A find expression GNU find would refuse, read from its words, checked against the real find."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bash_ai.safety import check_syntax
from bash_ai.safety.find_expression import find_error

# Expressions after a starting point, each with find's complaint (None: find accepts it). The
# first eight are first answers the bundled model gave to NL2Bash requests.
EXPRESSIONS = [
    ("-iname '*.c' -atime -2 -type -f", "invalid argument `-f' to `-type'"),
    ("-atime +30 -exec rm {} ;", "missing argument to `-exec'"),
    ("-name '*' — print", "paths must precede expression: `—'"),
    ("-type f -perm 0777 permission -exec ls -l {} \\;", "paths must precede expression: `permission'"),
    ("-mtime 2-5", "invalid argument `2-5' to `-mtime'"),
    ("-name CVS -prune -o -depth +6 -print", "paths must precede expression: `+6'"),
    ("-type f -exec ln -s {} folder1_ +\\;", "missing argument to `-exec'"),
    ("-chour +1", "unknown predicate `-chour'"),
    ("-maxdepth x -print", "invalid argument `x' to `-maxdepth'"),
    ("-name", "missing argument to `-name'"),
    ("-size 10Q", "invalid argument `10Q' to `-size'"),
    # Accepted:
    ("-type f -name '*.tmp' -mtime +7 -delete", None),
    ("-name '*.py' -exec wc -l {} +", None),
    ("-exec grep -l x {} \\; -print", None),
    ("\\( -name a -o -name b \\) -print0", None),
    ("-perm -u+r -o -perm /g=w,o=w -o -perm 0644", None),
    ("-xdev -newermt 2020-01-01 -size +100M -printf '%s %p\\n'", None),
    ("-type f,d -maxdepth 2 -mmin -30 ! -empty", None),
    # (find opens an -fprintf file as it reads the expression: /dev/null here)
    ("-regextype posix-extended -regex '.*[0-9]+' -fprintf /dev/null '%p\\n'", None),
    ("-depth -name x -ok rm {} \\;", None),
]


def _reported(error: str | None) -> str | None:
    return None if error is None else error.removeprefix("find: ")


@pytest.mark.parametrize(("expression", "complaint"), EXPRESSIONS)
def test_a_find_expression_gets_finds_own_verdict(expression: str, complaint: str | None) -> None:
    assert _reported(find_error(f"find /var/log {expression}")) == complaint
    assert _reported(find_error(f"sudo find . {expression} | head")) == complaint  # wherever it runs


@pytest.mark.skipif(shutil.which("find") is None, reason="no find")
@pytest.mark.parametrize(("expression", "complaint"), EXPRESSIONS)
def test_the_real_gnu_find_agrees(expression: str, complaint: str | None, tmp_path: Path) -> None:
    """find reads the whole expression before its first starting point, so a starting point that
    does not exist lets it judge the expression and run nothing (GNU find's words, at times its
    own phrasing for the same fault)."""
    missing = tmp_path / "missing"
    proc = subprocess.run(
        ["bash", "--norc", "-c", f"find {missing} {expression}"], cwd=tmp_path, capture_output=True, text=True
    )
    first = proc.stderr.splitlines()[0] if proc.stderr else ""
    assert proc.returncode != 0 and list(tmp_path.iterdir()) == []
    if complaint is None:
        assert "No such file or directory" in first, first
    else:
        assert "No such file or directory" not in first, first
        if complaint.startswith(("missing", "paths", "unknown")) or "-mtime" in complaint:
            assert complaint in first, first


@pytest.mark.parametrize(
    "command",
    [
        "find $DIR -type $KIND",  # known only when it runs
        'find . -name "$(cat names)" -mtime $DAYS',
        "find -E . -regex '.*x' -Btime -1d",  # BSD find (tldr's macOS pages)
        "echo find me -type q",  # no find runs
        "ls | grep -- '-type -f'",
    ],
)
def test_what_it_cannot_know_or_does_not_run_passes(command: str) -> None:
    assert find_error(command) is None


def test_a_refused_find_is_not_a_valid_answer() -> None:
    result = check_syntax("find /myfiles -atime +30 -exec rm {} ;")
    assert not result.ok and result.message == "find: missing argument to `-exec'"
    assert check_syntax("find /myfiles -atime +30 -exec rm {} \\;").ok
