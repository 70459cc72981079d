"""A command whose first program reads its input for want of a file gets the one file the request
names (``arguments.fill_file``): checked as text and run in real bash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bash_ai.engine.arguments import adapt, fill_file

NOTES = "one\ntwo\nthree\nfour\n"


@pytest.mark.parametrize(
    ("command", "asked", "expected"),
    [
        ("head -n 2", "show the first 2 lines of notes.txt", "head -n 2 notes.txt"),
        ("head -2", "show the first 2 lines of notes.txt", "head -2 notes.txt"),
        ("tail --lines 2", "show the last 2 lines of notes.txt", "tail --lines 2 notes.txt"),
        ("sort -r", "sort notes.txt in reverse", "sort -r notes.txt"),
        ("sort -k 1 -t ,", "sort notes.txt by its first field", "sort -k 1 -t , notes.txt"),
        ("sort -rk1", "sort notes.txt by its first field", "sort -rk1 notes.txt"),
        ("grep -i t", "lines of notes.txt with a t", "grep -i t notes.txt"),
        ("grep -e t -c", "count lines of notes.txt with a t", "grep -e t -c notes.txt"),
        ("awk -F, '{print $1}'", "first field of notes.txt", "awk -F, '{print $1}' notes.txt"),
        ("awk -v n=1 'NR>n'", "notes.txt without its first line", "awk -v n=1 'NR>n' notes.txt"),
        ("sed -n 2p", "print line 2 of notes.txt", "sed -n 2p notes.txt"),
        ("cut -c 1-2", "first two characters of each line of notes.txt", "cut -c 1-2 notes.txt"),
        ("wc -l | cat", "count the lines of notes.txt", "wc -l notes.txt | cat"),
        ("tac > out.txt", "notes.txt backwards into out.txt", "tac > out.txt"),  # two files named
        ("tac > rev", "reverse notes.txt", "tac notes.txt > rev"),
        # a made-up operand takes the file's place
        ("head -n 2 file", "show the first 2 lines of notes.txt", "head -n 2 notes.txt"),
        ("grep -v t fileName | wc -l", "count lines of notes.txt without a t", "grep -v t notes.txt | wc -l"),
        ("cat input | tac", "print notes.txt backwards", "cat notes.txt | tac"),
    ],
)
def test_the_named_file_goes_where_the_input_was_read(command: str, asked: str, expected: str) -> None:
    assert fill_file(command, asked) == expected


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("head -n 2 other.txt", "show the first 2 lines of notes.txt"),  # names a file already
        ("head -n 2", "show the first 2 lines of a.txt and b.txt"),  # two files: which one?
        ("head -n 2", "show the first 2 lines"),  # none
        ("sed -i s/a/b/", "replace a with b in notes.txt"),  # would edit it in place
        ("head -n 2 -", "show the first 2 lines of notes.txt"),  # reads its input by name
        ("head < x", "show the first lines of notes.txt"),  # input redirected
        ("head -n 2 && ls", "show the first 2 lines of notes.txt"),  # not a pipeline's reader
        ("find . -name x", "find notes.txt"),  # not a program of the table
        ("sort --parallel 2", "sort notes.txt"),  # an option the table lacks: its value is no made-up file
        ("grep t a b", "lines of notes.txt with a t"),  # two operands: not a made-up one
        ("grep t notes", "lines of notes with a t in notes.txt"),  # the request uses the word
        ("grep t $FILE", "lines of notes.txt with a t"),  # a variable is not made up
        ("head -n 2 ./x", "first 2 lines of notes.txt"),
    ],
)
def test_left_as_written(command: str, asked: str) -> None:
    assert fill_file(command, asked) == command


def test_adapt_fills_the_file_of_a_retrieved_command() -> None:
    assert adapt("sort -n", "Sort numerically", "sort numbers.txt numerically") == "sort -n numbers.txt"


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("head -n 2", "show the first 2 lines of notes.txt"),
        ("tail -n 1", "show the last line of notes.txt"),
        ("grep -c o", "count the lines of notes.txt with an o"),
        ("sort -r | head -n 1", "the last of notes.txt sorted"),
        ("awk 'NR==3'", "line 3 of notes.txt"),
        ("wc -l", "count the lines of notes.txt"),
        ("cut -c 1 file", "the first letter of each line of notes.txt"),
    ],
)
def test_the_filled_command_reads_the_file_in_real_bash(tmp_path: Path, command: str, asked: str) -> None:
    (tmp_path / "notes.txt").write_text(NOTES)
    filled = fill_file(command, asked)
    assert "notes.txt" in filled
    # The input is other text: the filled command prints what the file gives, as the same program
    # reading the file on its input does.
    run = subprocess.run(
        ["bash", "-c", filled], cwd=tmp_path, input="zzz\n", capture_output=True, text=True, timeout=10
    )
    fed = subprocess.run(
        ["bash", "-c", command.replace(" file", "")],
        cwd=tmp_path,
        stdin=(tmp_path / "notes.txt").open(),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.replace("notes.txt", "").strip() == fed.stdout.strip()
    assert "zzz" not in run.stdout


@pytest.mark.parametrize(
    ("command", "example", "asked", "expected"),
    [
        (
            'find /tmp -name "*.tmp" | xargs rm',
            "",
            "delete all .tmp files in this directory tree",
            'find . -name "*.tmp" | xargs rm',
        ),
        ("find / -name x 2>/dev/null", "", "find x in the current directory", "find . -name x 2>/dev/null"),
        (
            'find /home/me/ -name "*.txt" > /tmp/found.log',  # where output goes stays
            "",
            "list the txt files of the current folder in a log",
            'find . -name "*.txt" > /tmp/found.log',
        ),
        ("find -L /a -type l", "Find links in /a", "find the links in the current directory", "find -L . -type l"),
        (
            "find /a -name x; find /b -name y",
            "",
            "find x and y in the current directory",
            "find . -name x; find . -name y",
        ),
        # "here" is the current directory; an example's relative place goes too (the bundle's
        # first answer on everyday-dev searched ``test``).
        (
            'find test -name ".DS_Store" -delete',
            "",
            "get rid of .DS_Store files everywhere under here",
            'find . -name ".DS_Store" -delete',
        ),
        ("find src/app -name '*.py'", "", "find the python files in here", "find . -name '*.py'"),
        ("find / -name x", "", "look for x from here", "find . -name x"),
    ],
)
def test_a_find_searches_the_current_directory_when_asked(
    command: str, example: str, asked: str, expected: str
) -> None:
    assert adapt(command, example, asked, swap_numbers=False) == expected
    assert subprocess.run(["bash", "-n", "-c", expected]).returncode == 0


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("find /var/log -name x", "find x in /var/log and the current directory"),  # names a path
        ("find . -name x -exec cp {} /backup \\;", "copy x from the current directory to /backup"),
        ("find /a /b -name x", "find x in the current directory"),  # two starting points
        ('find "$dir" -name x', "find x in the current directory"),
        ("cp a.txt /backup", "copy a.txt from the current directory to the backup dir"),  # not a find
        ("ls /var/log", "list the current directory"),
        ("find /tmp -name x", "find x in /tmp"),  # no current directory asked for
        ("find src -name x", "find x in the src directory here"),  # the request names the place
        ("find test -name x", "here is a file called x: find it"),  # "here" not as a place
        ("find test -name x", "find x in the test folder"),  # a relative place kept where no "here" is said
        ("find src docs -name x", "find x in here"),  # two starting points
    ],
)
def test_other_paths_stay(command: str, asked: str) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == command


@pytest.mark.parametrize(
    ("command", "example", "asked", "expected"),
    [
        ("mkdir dir1", "Create a directory named dir1", "create a directory called projects", "mkdir projects"),
        ("mkdir dir1", "Create directory dir1", "create a directory called projects", "mkdir projects"),
        (
            "ps -ef | grep myProcessName | grep -v grep | awk '{print $2}' | xargs kill -9",
            "Kill all processes matching myProcessName",
            "kill all processes named firefox",
            "ps -ef | grep firefox | grep -v grep | awk '{print $2}' | xargs kill -9",
        ),
        (
            "ln -s /usr/bin/python3 py",
            "Create a symbolic link named py to /usr/bin/python3",
            "create a symbolic link to /usr/bin/python3 named python",
            "ln -s /usr/bin/python3 python",
        ),
        ("find . -name 'foo*'", "Find files named foo", "find files named bar", "find . -name 'bar*'"),
    ],
)
def test_the_requests_name_takes_the_examples_place(command: str, example: str, asked: str, expected: str) -> None:
    assert adapt(command, example, asked) == expected


@pytest.mark.parametrize(
    ("command", "example", "asked"),
    [
        ('touch "$filename"', "create an empty file named $filename", "create an empty file named notes.txt"),
        ("mkdir a b", "Create directories a and b", "create a directory called projects"),  # two candidates
        ("mkdir dir1", "", "create a directory called projects"),  # a beam: no example to say which
        ("xargs kill -9", "Kill processes", "kill all processes named firefox"),  # programs never
        ("mkdir projects", "Create directory projects", "create a directory called projects"),
        ("mkdir dir1", "Create directory dir1", "create a directory for the projects"),  # no name asked
    ],
)
def test_names_stay_where_it_is_unclear(command: str, example: str, asked: str) -> None:
    assert adapt(command, example, asked) == command


@pytest.mark.parametrize(
    ("command", "asked", "expected"),
    [
        ("x=$(whoami)", "show my user name", "whoami"),
        ("addr=$(hostname -I)", "show my ip addresses", "hostname -I"),
        ("ip=$(hostname -I)", "show my ip addresses", "ip=$(hostname -I)"),  # names the variable, maybe
        ("x=$(whoami)", "save my user name in a variable", "x=$(whoami)"),
        ("hnd=`hostname`", "put the host name into hnd", "hnd=`hostname`"),
        ("x=$(whoami)", "set x to my user name", "x=$(whoami)"),
        ("x=$(whoami); echo $x", "show my user name", "x=$(whoami); echo $x"),
    ],
)
def test_a_lone_assignment_is_unwrapped_unless_the_request_asks_for_a_variable(
    command: str, asked: str, expected: str
) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == expected


LINES = "".join(f"line {i}\n" for i in range(1, 8))


@pytest.mark.parametrize(
    ("command", "asked", "wanted"),
    [
        ("tail -n +2 notes.txt", "print the last 2 lines of notes.txt", "tail -n 2 notes.txt"),
        ("tail -n+2 notes.txt", "print the last 2 lines of notes.txt", "tail -n2 notes.txt"),
        ("tail +2 notes.txt", "print the last 2 lines of notes.txt", "tail -n 2 notes.txt"),
        ("tail --lines=+3 notes.txt", "show the last 3 lines of notes.txt", "tail --lines=3 notes.txt"),
        ("head -n -5 notes.txt", "show the first 5 lines of notes.txt", "head -n 5 notes.txt"),
    ],
)
def test_lines_counted_from_the_end_when_the_request_counts_so(
    command: str, asked: str, wanted: str, tmp_path: Path
) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == wanted
    (tmp_path / "notes.txt").write_text(LINES)
    count = int(asked.split()[3])
    lines = LINES.splitlines(keepends=True)
    expected = "".join(lines[-count:] if "last" in asked else lines[:count])
    assert subprocess.run(["bash", "-c", wanted], cwd=tmp_path, capture_output=True, text=True).stdout == expected


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("tail -n +2 notes.txt", "print all but the first line of notes.txt"),  # meant as written
        ("tail -n +3 notes.txt", "print the last 2 lines of notes.txt"),  # another number
        ("head -n -5 notes.txt", "drop the last 5 lines of notes.txt"),
        ("head -5 notes.txt", "show the first 5 lines of notes.txt"),  # already the first 5
    ],
)
def test_signed_counts_stay_where_the_request_does_not_count_from_the_end(command: str, asked: str) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == command


@pytest.mark.parametrize(
    ("command", "example", "asked", "expected"),
    [
        ("man find", "Show manual page of find", "show the manual page of grep", "man grep"),
        ("man find", "Show manual page of find utility", "show the manual page of grep", "man grep"),
        ("which gradle", 'Print full path of command "gradle"', 'Print full path of command "python"', "which python"),
        ("killall chrome", "kill all chrome processes", "kill all firefox processes", "killall firefox"),
        (
            "chgrp loggroup logdir",
            "Change the group of logdir to loggroup",
            "Change the group of www to staff",
            "chgrp staff www",
        ),
        (
            "shopt -s nullglob",
            "Enables shell option 'nullglob'.",
            "Enables shell option 'lastpipe'.",
            "shopt -s lastpipe",
        ),
        ("unset -v latest", "Unsets latest variable.", "Unsets DUALCASE variable.", "unset -v DUALCASE"),
        (
            "bash --version",
            "show the version of bash",
            "show the version of ls",
            "ls --version",
        ),  # a program asked about
        (
            "find trunk -type f -exec wc -l {} +",
            "Count the lines of files under trunk directory",
            "Count the lines of files under current directory",
            "find . -type f -exec wc -l {} +",
        ),
    ],
)
def test_the_words_a_request_changes_take_the_examples_place(
    command: str, example: str, asked: str, expected: str
) -> None:
    assert adapt(command, example, asked) == expected


@pytest.mark.parametrize(
    ("command", "example", "asked"),
    [
        ("find . -name '*.txt'", "find all txt files", "locate all txt files"),  # a program with its own options
        ("bash --version", "show the version of bash", "show the version of zzzqx"),  # no such program here
        ("ls -S", "list files sorted by size", "list files sorted by name"),  # the old word is not in the command
        ("mkdir dir1", "Create directory dir1", "create a directory for the projects"),  # a word more
        ("grep foo logs", "search foo in old logs", "search bar in new notes"),  # three words changed
        ("grep foo logs", "search foo in the logs", "look for bar in the logs"),  # a word more
        ("man find", "", "show the manual page of grep"),  # a beam: no example
        ("man grep", "Show manual page of find", "show the manual page of grep"),  # named already
    ],
)
def test_words_stay_unless_they_are_the_only_changes(command: str, example: str, asked: str) -> None:
    assert adapt(command, example, asked) == command


ESSAY = "the quick brown fox\njumps over\nthe lazy dog\n"


@pytest.mark.parametrize(
    ("command", "asked", "expected", "count"),
    [
        ("wc -l essay.txt", "count the words in essay.txt", "wc -w essay.txt", 9),
        ("cat essay.txt | wc -w", "how many lines are in essay.txt", "cat essay.txt | wc -l", 3),
        ("wc -w < essay.txt", "number of characters in essay.txt", "wc -m < essay.txt", len(ESSAY)),
        ("wc -c essay.txt", "count the characters of essay.txt", "wc -c essay.txt", len(ESSAY)),  # bytes: stays
        ("wc -l essay.txt", "count the bytes of essay.txt", "wc -c essay.txt", len(ESSAY)),
    ],
)
def test_wc_counts_what_the_request_counts(command: str, asked: str, expected: str, count: int, tmp_path: Path) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == expected
    (tmp_path / "essay.txt").write_text(ESSAY)
    out = subprocess.run(["bash", "-c", expected], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert int(out.split()[0]) == count


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("grep -c error app.log | wc -l", "count the lines containing the word error"),  # two units named
        ("wc -l a b", "count the files"),  # no unit named
        ("wc -lw essay.txt", "count the words in essay.txt"),  # not one unit flag
        ("wc -l a | wc -l", "count the words"),  # two wc
    ],
)
def test_wc_stays_where_the_unit_is_unclear(command: str, asked: str) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == command


@pytest.mark.parametrize(
    ("command", "asked", "expected", "output"),
    [
        (
            "grep error app.log",
            "show the lines of app.log with error, ignoring case",
            "grep -i error app.log",
            "Error 1\n",
        ),
        ("grep -v ok app.log", "lines of app.log without ok, case-insensitive", "grep -i -v ok app.log", "Error 1\n"),
        ("find . -name '*.gif'", "find gif files regardless of case", "find . -iname '*.gif'", "./A.GIF\n"),
        ("cat app.log", "show app.log with line numbers", "cat -n app.log", "     1\tError 1\n     2\tOK 2\n"),
        ("sort nums.txt", "sort nums.txt numerically", "sort -n nums.txt", "2\n10\n"),
        ("sort -n nums.txt", "sort nums.txt numerically, in descending order", "sort -r -n nums.txt", "10\n2\n"),
        (
            "mkdir a/b/c && ls -d a/b/c",
            "create a/b/c, including missing parents",
            "mkdir -p a/b/c && ls -d a/b/c",
            "a/b/c\n",
        ),
        (
            "grep -l needle .",
            "which files under here hold needle, recursively",
            "grep -r -l needle .",
            "./sub/deep.txt\n",
        ),
        (
            "rm sub; test -e sub || echo gone",
            "delete the directory sub recursively",
            "rm -r sub; test -e sub || echo gone",
            "gone\n",
        ),
        ("ls *.txt *.bin", "list the files sorted by size", "ls -S *.txt *.bin", "big.bin\nnums.txt\nsmall.txt\n"),
        (
            "ls",
            "list the hidden files too",
            "ls -a",
            ".\n..\n.secret\nA.GIF\napp.log\nbig.bin\nnums.txt\nsmall.txt\nsub\n",
        ),
        (
            "grep needle sub/deep.txt",
            "lines of sub/deep.txt with the whole word needle",
            "grep -w needle sub/deep.txt",
            "a needle\n",
        ),
        (
            "cp small.txt copy.txt",
            "copy small.txt to copy.txt verbosely",
            "cp -v small.txt copy.txt",
            "'small.txt' -> 'copy.txt'\n",
        ),
    ],
)
def test_flags_the_request_asks_for_are_added(
    command: str, asked: str, expected: str, output: str, tmp_path: Path
) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == expected
    (tmp_path / "app.log").write_text("Error 1\nOK 2\n")
    (tmp_path / "nums.txt").write_text("10\n2\n")
    (tmp_path / "A.GIF").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text("a needle\nneedles\n")
    (tmp_path / "small.txt").write_text("x\n")
    (tmp_path / "big.bin").write_bytes(b"x" * 10_000)
    (tmp_path / ".secret").write_text("")
    env = {**os.environ, "LC_ALL": "C"}  # ls sorts names by bytes
    run = subprocess.run(["bash", "-c", expected], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=10)
    assert run.stdout == output, run.stderr


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("grep -ri x .", "search x ignoring case"),  # in a cluster already
        ("grep --ignore-case x f", "search x in f ignoring case"),  # a long form
        ("grep -iA3 x f", "search x in f ignoring case, with 3 lines after"),  # a cluster with a value
        ("find . -exec grep x {} +", "search x ignoring case"),  # run by find: left as written
        ("du -sh *", "disk usage of each file, human readable"),
        ("sort data.txt", "sort data.txt"),  # nothing asked
        ("mkdir build", "create the build directory"),
        ("tail -n 5 app.log", "show the last 5 lines of app.log"),
    ],
)
def test_flags_stay_where_given_or_not_asked(command: str, asked: str) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == command


def test_a_command_is_adapted_by_the_first_of_its_examples_that_changes_it() -> None:
    from bash_ai.engine.propose import adapt_by_examples

    asked = "show the manual page of grep"
    both = ["Show manual of the find utility", "Show manual page of find"]
    assert adapt_by_examples("man find", both, asked) == "man grep"
    assert adapt_by_examples("man find", both[:1], asked) == "man find"  # that example does not line up
    days = "list the files older than 7 days"
    assert adapt_by_examples("find . -mtime +3", ["list the files older than 3 days"], days) == "find . -mtime +7"
    # A beam of the model's own: no example says which numbers are arguments, so they stay.
    assert adapt_by_examples("find . -maxdepth 1 -mtime +3", [], days) == "find . -maxdepth 1 -mtime +3"


@pytest.mark.parametrize(
    ("command", "asked"),
    [
        ("ls", "list the files, excluding hidden ones"),
        ("ls", "list the non-hidden files"),
        ("ls -A", "list hidden files"),  # -A gives them too
        ("grep -R x .", "search x recursively"),  # -R is recursive for grep as well
        ("chmod -R 755 d", "make d 755 recursively"),
        ("find . -name x | xargs rm", "delete every x recursively"),  # rm run by xargs: left as written
        ("find . -type f | grep -v x", "list files recursively, but not x"),  # grep -r would leave the pipe
        ("grep error app.log", "the lines of app.log with the word error"),  # "the word" is no whole-word match
    ],
)
def test_more_flags_stay(command: str, asked: str) -> None:
    assert adapt(command, "", asked, swap_numbers=False) == command


def test_ls_recursive_is_capital_r_beside_reverse() -> None:
    assert adapt("ls -r", "", "list everything recursively", swap_numbers=False) == "ls -R -r"
