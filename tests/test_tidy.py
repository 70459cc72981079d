"""A useless ``cat`` dropped (``bash_ai.tidy``): each rewrite prints what the original printed, run
by real bash on real files; every other command is left as written; the answer path shows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bash_ai.tidy import drop_useless_cat

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


@pytest.mark.parametrize(("before", "after"), sorted(REWRITTEN.items()))
def test_a_useless_cat_is_dropped_and_the_output_is_the_same(before: str, after: str, tmp_path: Path) -> None:
    assert drop_useless_cat(before) == after

    def run(command: str) -> tuple[str, str]:
        for name, text in {"notes.txt": "b\na\nc\nb\n", "my notes.txt": "y\nx\ny\n", "data.csv": "1,2\n3,4\n"}.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / "out.txt").unlink(missing_ok=True)
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True)
        out = tmp_path / "out.txt"
        return proc.stdout, out.read_text(encoding="utf-8") if out.exists() else ""

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
