"""bash -n and shellcheck, run for real: verdicts, messages, batching, and that nothing executes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bash_ai.errors import BashAIError
from bash_ai.safety import check_syntax, check_syntax_many, shellcheck_available, shellcheck_findings
from bash_ai.safety.syntax import shellcheck_many

VALID = [
    "ls -la",
    "find . -name '*.py' | xargs wc -l",
    'for f in *.txt; do echo "$f"; done',
    "if [[ -f x && $a > 3 ]]; then echo y; fi",
    "cat <<EOF\nhello\nEOF",
    "ls !(*.txt)",  # extglob is on, as in interactive bash
    "echo $(date +%F) `whoami`",
    "f() { echo hi; }; f",
    "#!/bin/bash\nset -euo pipefail\necho ok\n",
]
INVALID = [
    ("ls )", "syntax error near unexpected token"),
    ("echo 'unterminated", "unexpected EOF"),
    ("if true; then echo", "syntax error"),
    ("for x in; do", "syntax error"),
    ("echo $(date", "unexpected EOF"),
    ("| grep x", "syntax error"),
]


@pytest.mark.parametrize("command", VALID)
def test_valid_commands_pass(command: str) -> None:
    assert check_syntax(command).ok


@pytest.mark.parametrize(("command", "fragment"), INVALID)
def test_invalid_commands_fail_with_bash_message(command: str, fragment: str) -> None:
    result = check_syntax(command)
    assert not result.ok
    assert result.message is not None and fragment in result.message
    assert not result.message.startswith(("bash:", "/"))  # the program name is stripped


def test_empty_command_is_not_valid() -> None:
    assert check_syntax("   \n ") == check_syntax("")
    assert not check_syntax("").ok and check_syntax("").message == "empty command"


def test_nothing_is_ever_executed(tmp_path: Path) -> None:
    marks = [tmp_path / name for name in ("a", "b", "c", "d")]
    commands = [
        f"touch {marks[0]}",
        f"echo $(touch {marks[1]})",
        f"x=`touch {marks[2]}`; echo > {marks[3]}",
    ]
    for result in check_syntax_many(commands):
        assert result.ok
    assert not any(mark.exists() for mark in marks)


def test_batch_matches_single_checks_and_keeps_order_and_duplicates() -> None:
    commands = [*VALID, *(c for c, _ in INVALID), "ls )", "ls -la"]
    assert check_syntax_many(commands) == [check_syntax(c) for c in commands]
    assert check_syntax_many([]) == []


def test_missing_bash_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BashAIError, match="bash is not installed"):
        check_syntax("echo never-checked-before-4f2a")


needs_shellcheck = pytest.mark.tool("shellcheck")


@needs_shellcheck
def test_shellcheck_findings_for_an_unquoted_variable() -> None:
    findings = shellcheck_findings("echo $x; cd foo")
    assert findings.available and shellcheck_available()
    codes = {f.code for f in findings}
    assert {2086, 2164} <= codes
    sc2086 = next(f for f in findings if f.code == 2086)
    assert sc2086.level == "info" and sc2086.line == 1 and sc2086.column == 6 and "quote" in sc2086.message.lower()


@needs_shellcheck
def test_shellcheck_clean_command_and_exclusions() -> None:
    assert shellcheck_findings('echo "hello"') == []
    assert 2086 not in {f.code for f in shellcheck_findings("echo $x", exclude=[2086])}


@needs_shellcheck
def test_shellcheck_batch_matches_single_runs() -> None:
    commands = ["echo $a", 'echo "ok"', "cd somewhere", "echo $a"]
    batch = shellcheck_many(commands)
    assert [list(b) for b in batch] == [list(shellcheck_findings(c)) for c in commands]


def test_shellcheck_unavailable_gives_empty_flagged_result(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    findings = shellcheck_findings("echo $x")
    assert findings == [] and not findings.available and "not installed" in (findings.error or "")
    assert not shellcheck_available()
