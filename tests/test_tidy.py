"""A useless ``cat`` dropped (``bash_ai.tidy``): each rewrite prints what the original printed, run
by real bash on real files; every other command is left as written; the answer path shows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bash_ai.tidy import (
    drop_useless_cat,
    find_here,
    quote_find_patterns,
    tidy,
    unescape_backquotes,
    unwrap_assignment,
)

REWRITTEN = {
    "cat notes.txt | wc -l": "wc -l notes.txt",
    "cat notes.txt|head -n 3": "head -n 3 notes.txt",
    'cat notes.txt | grep -Ei "b|c" | sort -r': 'grep -Ei "b|c" notes.txt | sort -r',
    "cat data.csv | md5sum": "md5sum data.csv",
    "cat data.csv | cut -d, -f2": "cut -d, -f2 data.csv",
    "cat data.csv | awk -F, '{print $1}' > out.txt": "awk -F, '{print $1}' data.csv > out.txt",
    "cat notes.txt | tr a-z A-Z": "tr a-z A-Z < notes.txt",
    "cat 'my notes.txt' | sort | uniq -c": "sort 'my notes.txt' | uniq -c",
    "cat notes.txt | sed -n '2,3p'": "sed -n '2,3p' notes.txt",
    "cat notes.txt | sort 2>/dev/null | tac": "sort notes.txt 2>/dev/null | tac",
    "cat notes.txt | uniq -c": "uniq -c notes.txt",
}
KEPT = [
    "cat *.txt | wc -l",  # several files: wc would print one line each
    "cat $f | wc -l",  # an unquoted expansion may be several files
    "cat notes.txt data.csv | wc -l",
    "cat -n notes.txt | head",
    "cat notes.txt | sed -i s/a/b/",
    "cat notes.txt | uniq out.txt",  # uniq IN OUT: the file would become its output
    "cat notes.txt | uniq -c out.txt",
    "cat notes.txt | paste - data.csv",  # "-" is the piped file by name
    "cat notes.txt | grep a -",
    "cat notes.txt | xxd",  # xxd IN OUT too: not among the programs
    "cat notes.txt | xargs echo",  # a program that does not read a file operand
    "cat notes.txt | tee copy.txt",  # one that writes it
    "cat notes.txt > copy.txt | wc -l",
    "cat notes.txt | sort < data.csv",
    "LC_ALL=C cat notes.txt | sort",
    "cat <(ls) | wc -l",
    "cat notes.txt",
    "ls | wc -l",
    "cat notes.txt && wc -l notes.txt",
    "",
]


def bash_out(command: str, cwd: Path) -> str:
    """What real bash prints for ``command`` run in ``cwd`` (it must succeed)."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("before", "after"), sorted(REWRITTEN.items()))
def test_a_useless_cat_is_dropped_and_the_output_is_the_same(before: str, after: str, tmp_path: Path) -> None:
    assert drop_useless_cat(before) == after

    def run(command: str) -> tuple[str, str]:
        for name, text in {"notes.txt": "b\na\nc\nb\n", "my notes.txt": "y\nx\ny\n", "data.csv": "1,2\n3,4\n"}.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / "out.txt").unlink(missing_ok=True)
        printed = bash_out(command, tmp_path)
        out = tmp_path / "out.txt"
        return printed, out.read_text(encoding="utf-8") if out.exists() else ""

    printed, written = run(before)
    assert printed or written
    if after.startswith(("wc", "md5sum")):  # they name the file they read, and "-" for their input
        printed = "".join(f"{line.removesuffix(' -')} {after.split()[-1]}\n" for line in printed.splitlines())
    assert run(after) == (printed, written)


@pytest.mark.parametrize("command", KEPT)
def test_any_other_command_is_left_as_written(command: str) -> None:
    assert drop_useless_cat(command) == command


def test_the_answers_shown_have_no_useless_cat_and_no_repeats() -> None:
    from bash_ai.answer import distinct_commands
    from bash_ai.engine.proposal import Proposal

    pool = [Proposal(t, "beam", -1.0, 3, 0.0) for t in ("cat a.txt | wc -l", "wc -l a.txt", "cat a.txt | wc -w")]
    assert list(distinct_commands(pool, distinct=False)) == ["wc -l a.txt", "wc -w a.txt"]


FIND_REWRITTEN = {
    "find -name '*.txt'": "find . -name '*.txt'",
    "find": "find .",
    "find | wc -l": "find . | wc -l",
    "find -L -type f": "find -L . -type f",
    "find \\( -name a.txt -o -name b.txt \\) -print": "find . \\( -name a.txt -o -name b.txt \\) -print",
    "ls; find -type d": "ls; find . -type d",
    "find -name a.txt -exec find -name b.txt \\;": "find . -name a.txt -exec find -name b.txt \\;",
}
FIND_KEPT = [
    "find . -name '*.txt'",
    "find ~ -name x",
    "find sub -type f",
    'find "$dir" -type f',
    "echo $(find -name x)",  # inside a substitution: left alone
    "find -D tree -name x",  # an option with a value before the start: not read
    "locate -name x",
]


@pytest.mark.parametrize(("before", "after"), sorted(FIND_REWRITTEN.items()))
def test_a_find_without_a_starting_point_gets_dot_and_finds_the_same(before: str, after: str, tmp_path: Path) -> None:
    assert tidy(before) == after
    (tmp_path / "sub").mkdir()
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")

    found = sorted(bash_out(after, tmp_path).splitlines())
    assert found == sorted(bash_out(before, tmp_path).splitlines()) and found


@pytest.mark.parametrize("command", FIND_KEPT)
def test_a_find_with_its_starting_point_is_left_as_written(command: str) -> None:
    assert find_here(command) == command


def test_typographic_quotes_become_quotes_and_the_pattern_matches(tmp_path: Path) -> None:
    command = "find . -name \u201c*.pdf\u201d | sed \u2018s/x/y/\u2019"
    assert tidy(command) == "find . -name \"*.pdf\" | sed 's/x/y/'"
    (tmp_path / "a.pdf").write_text("x\n", encoding="utf-8")
    found = "find . -name \u201c*.pdf\u201d"
    assert bash_out(found, tmp_path) == ""  # the pattern's own quote characters match nothing
    assert bash_out(tidy(found), tmp_path) == "./a.pdf\n"


PATTERNS_QUOTED = {
    "find . -name *.py": "find . -name '*.py'",
    "find -name *.py -type f": "find . -name '*.py' -type f",  # then given its starting point too
    "find . -iname A*.PY -o -path ./sub/*": "find . -iname 'A*.PY' -o -path './sub/*'",
    "find . -name [ab].py | sort": "find . -name '[ab].py' | sort",
    "ls; find . -name ?.py": "ls; find . -name '?.py'",
}
PATTERNS_KEPT = [
    "find . -name '*.py'",
    'find . -name "*.py"',
    "find . -name \\*.py",  # escaped: find gets the pattern already
    "find . -name $ext*",  # an expansion: what it means is the shell's
    "find . -name *.{py,txt}",  # a brace list: bash makes two words of it
    "find . -type f -exec ls *.py \\;",  # not a name test's operand
    "ls *.py",
    "echo $(find . -name *.py)",  # inside a substitution: left alone
]


@pytest.mark.parametrize(("before", "after"), sorted(PATTERNS_QUOTED.items()))
def test_a_find_pattern_is_quoted_and_finds_what_it_meant(before: str, after: str, tmp_path: Path) -> None:
    assert tidy(before) == after
    (tmp_path / "sub").mkdir()
    for name in ("a.py", "b.py", "sub/a.py", "sub/c.py", "sub/A1.PY", "notes.txt"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    # The shell expands the unquoted pattern to the current directory's matches: find fails or
    # searches for those names only; quoted, it finds every match in the tree.
    unquoted = subprocess.run(["bash", "-c", before], cwd=tmp_path, capture_output=True, text=True)
    found = sorted(bash_out(after, tmp_path).splitlines())
    assert found and found != sorted(unquoted.stdout.splitlines())
    assert any("sub/" in line for line in found)


@pytest.mark.parametrize("command", PATTERNS_KEPT)
def test_other_find_words_are_left_as_written(command: str) -> None:
    assert quote_find_patterns(command) == command


UNWRAPPED = {
    "x=$(echo hello)": "echo hello",
    "name=`whoami`": "whoami",
    'n="$(cat notes.txt | wc -l)"': "wc -l notes.txt",  # then tidied like any command
    "lines=$(sort notes.txt | uniq)": "sort notes.txt | uniq",
}
NOT_UNWRAPPED = [
    "x=$(whoami); echo $x",  # the value is used
    "x=$(whoami) env",  # an assignment for a command's environment
    "x=5",
    "x=$(a)$(b)",
    "x=$(whoami) > out.txt",
    "export x=$(whoami)",
    "",
]


@pytest.mark.parametrize(("before", "after"), sorted(UNWRAPPED.items()))
def test_a_lone_assignment_of_output_prints_that_output(before: str, after: str, tmp_path: Path) -> None:
    assert tidy(unwrap_assignment(before)) == after
    (tmp_path / "notes.txt").write_text("b\na\nb\n", encoding="utf-8")
    variable = before.split("=", 1)[0]

    assert bash_out(before, tmp_path) == ""  # the original prints nothing
    stored = bash_out(f'{before}; printf "%s" "${variable}"', tmp_path)
    shown = bash_out(after, tmp_path).rstrip("\n")
    if after.startswith("wc"):
        shown = shown.removesuffix(" notes.txt")
    assert shown == stored and shown


@pytest.mark.parametrize("command", NOT_UNWRAPPED)
def test_other_assignments_are_left_as_written(command: str) -> None:
    assert unwrap_assignment(command) == command


# Backquotes escaped where the command was copied out of a quoted string: bash passes them on as letters.
UNESCAPED = {
    r"echo \`wc -l notes.txt\`": "echo $(wc -l notes.txt)",
    r"echo \`head -n 1 notes.txt\` \`tail -n 1 notes.txt\`": "echo $(head -n 1 notes.txt) $(tail -n 1 notes.txt)",
    r"printf '%s\n' \`sort -r notes.txt\`": "printf '%s\\n' $(sort -r notes.txt)",
}
STILL_ESCAPED = [
    r'echo "\`date\`"',  # inside double quotes: a backquote meant as a letter
    r"echo '\`date\`'",
    r"echo \`date",  # one alone: nothing to pair
    r"echo \`date\` `pwd`",  # a real substitution beside them
    "echo `date`",
]


@pytest.mark.parametrize(("before", "after"), sorted(UNESCAPED.items()))
def test_escaped_backquotes_become_the_substitution_they_were_meant_as(before: str, after: str, tmp_path: Path) -> None:
    assert unescape_backquotes(before) == after
    assert tidy(before) == after
    (tmp_path / "notes.txt").write_text("first\nlast\n", encoding="utf-8")
    assert "`" in bash_out(before, tmp_path)  # as written, bash prints the backquotes it was given
    substituted = bash_out(after, tmp_path)
    assert "`" not in substituted and substituted.strip()


@pytest.mark.parametrize("command", STILL_ESCAPED)
def test_other_backquotes_are_left_as_written(command: str) -> None:
    assert unescape_backquotes(command) == command
