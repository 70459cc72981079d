"""The official grammar's format and the official parser's reading of commands by it, rule by
rule, on a small grammar written here in the same format (the official file is not ours to ship;
``benchmarks/official_agreement.py --check-grammar`` compares our reading of the real one).

Scores per position, as in tests/test_nlc2cmd_official.py: right utility -> (1 + S_F) / 2 with
S_F = (2|F∩| - |F∪|) / max(1, |Fp|, |Fr|) (1 when neither has flags); wrong or missing utility -> -1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bash_ai.errors import UsageError
from bash_ai.evaluation.nlc2cmd_official import official_score, official_topk, official_utility_flags
from bash_ai.evaluation.official_grammar import Grammar, Slot, parse_grammar

GRAMMAR = """
        A header the reader skips.

        type
                File        (file, f)
                Directory   (dir)
                Path        (path)
                Command     (command, command_eos)
                Regex       (pattern, replace-str, user, when, string)
                Quantity    (k, n, seconds)

        constants
                DASH -

        PrimitiveCmd ::=

                ls [-alR::] [--color[=WHEN]] [--all] [--width=N] [FILE...]

                head [- K] [-n K] [FILE...]

                cd [-P [-e]] [dir]

                tar -c [--exclude pattern] [-f file] [file...]

                su [-c command] [user]

                rsync [-e command] [-a] [--rsh=COMMAND] [file...]

                xargs [-0::] [-I replace-str] [-i [~~replace-str]] [Command_EOS]

                find [-H | -L] path... [-exec COMMAND$$;,+] [-name pattern] [-print] [-type f]

                watch [-n seconds] command

                watch [-n seconds] command_eos

                wc [-l]

                grep [-E] [-v] pattern [file...]

                egrep [-v] pattern [file...]
"""


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return parse_grammar(GRAMMAR)


def _read(command: str, grammar: Grammar) -> list[tuple[str, list[str]]] | None:
    found = official_utility_flags(command, grammar)
    return None if found is None else [(u, sorted(f)) for u, f in found]


def test_the_reader_takes_flags_arguments_and_their_places(grammar: Grammar) -> None:
    assert set(grammar.utilities) == {
        *("ls", "head", "cd", "tar", "su", "rsync", "xargs", "find", "watch", "wc", "grep", "egrep")
    }
    ls = grammar.utilities["ls"]
    assert set(ls.flags) == {"-a", "-l", "-R", "--color", "--all", "--width"}  # -alR:: is three flags
    assert ls.flags["-l"] == () and ls.flags["--all"] == ()
    assert ls.flags["--color"] == (Slot("value"),) and ls.flags["--width"] == (Slot("value"),)
    assert ls.positional == [Slot("value", repeats=True)]  # FILE...: any number of words
    assert grammar.utilities["head"].flags["-"] == (Slot("value"),)  # "- K": head -5
    xargs = grammar.utilities["xargs"]
    assert xargs.flags["-i"] == (Slot("value", attached_only=True),)  # ~~: only -i{}, never the next word
    assert xargs.positional == [Slot("rest")]  # Command_EOS: the rest is a command
    assert grammar.utilities["su"].flags["-c"] == (Slot("command"),)  # one quoted command string
    assert grammar.utilities["find"].flags["-exec"] == (Slot("exec", stops=(";", "+")),)
    assert set(grammar.utilities["find"].flags) >= {"-H", "-L"}  # "-H | -L": two flags


def test_the_reader_keeps_the_official_quirks(grammar: Grammar) -> None:
    # A long flag without "=" is named by the whole item, so "--exclude=x" is not in the grammar.
    assert "--exclude pattern" in grammar.utilities["tar"].flags and "--exclude" not in grammar.utilities["tar"].flags
    # A flag nested in another's brackets is lost: cd has -P only.
    assert set(grammar.utilities["cd"].flags) == {"-P"}
    # Lines of one utility add up: flags merge, argument places are appended.
    assert grammar.utilities["watch"].positional == [Slot("command"), Slot("rest")]


def test_grammar_files_that_cannot_be_used_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the official grammar"):
        Grammar.read(tmp_path / "missing.txt")
    not_a_grammar = tmp_path / "notes.txt"
    not_a_grammar.write_text("ls [-l]\n", encoding="utf-8")
    with pytest.raises(UsageError, match="PrimitiveCmd"):
        Grammar.read(not_a_grammar)
    binary = tmp_path / "grammar.bin"
    binary.write_bytes(b"\xff\xfe PrimitiveCmd ::=\n ls [-l]\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        Grammar.read(binary)
    real = tmp_path / "grammar.txt"
    real.write_text(GRAMMAR, encoding="utf-8")
    assert set(Grammar.read(real).utilities) == set(parse_grammar(GRAMMAR).utilities)


def test_flags_the_synopsis_lacks(grammar: Grammar) -> None:
    assert _read("ls -l", grammar) == [("ls", ["-l"])]
    assert _read("ls -la", grammar) == [("ls", ["-a", "-l"])]  # combined
    # A known first letter with an unknown one after it, or an unknown long flag: unreadable.
    assert _read("ls -lz", grammar) is None
    assert _read("ls --colour", grammar) is None
    # A word whose first letter is no flag is an argument, when an argument place is open...
    assert _read("ls -z", grammar) == [("ls", [])] and _read("ls -zl", grammar) == [("ls", [])]
    # ...and unreadable when none is (this wc takes no file).
    assert _read("wc -z", grammar) is None
    # Our own tables read all of these as flags: the modes differ.
    assert official_utility_flags("ls -lz") == [("ls", frozenset({"-l", "-z"}))]
    # Unreadable prediction, readable reference: -1; the top 5 takes the best when one is positive.
    assert official_score("ls -lz", "ls -l", 1.0, grammar) == -1.0
    assert official_topk(["ls -lz", "ls -l"], "ls -l", None, grammar) == 1.0
    # ls -z against ls -l: no flags against one, S_F = (0 - 1) / 1 = -1, so (1 - 1) / 2 = 0.
    assert official_score("ls -z", "ls -l", 1.0, grammar) == 0.0
    # ls -la against ls -l: S_F = (2*1 - 2) / 2 = 0, so (1 + 0) / 2 = 0.5.
    assert official_score("ls -la", "ls -l", 1.0, grammar) == 0.5


def test_flag_arguments_attached_or_next_and_missing(grammar: Grammar) -> None:
    assert _read("head -n 5 f", grammar) == [("head", ["-n"])]
    assert _read("head -n5 f", grammar) == [("head", ["-n"])]
    assert _read("head -5 f", grammar) == [("head", ["-"])]  # the "- K" flag
    assert _read("head -n", grammar) is None  # its argument is missing
    assert _read("head -n -5", grammar) == [("head", ["-n"])]  # an open flag takes the next word, dash or not
    assert _read("ls --color=auto", grammar) == [("ls", ["--color"])]
    assert _read("ls --color auto", grammar) == [("ls", ["--color"])]  # --color's value, not a file
    assert _read("ls --all=yes", grammar) is None  # a value for a flag that takes none
    assert _read("tar -c --exclude=x f", grammar) is None  # the name quirk above
    assert _read("tar -cf a.tar f", grammar) == [("tar", ["-c", "-f"])]


def test_a_word_no_place_takes_makes_the_command_unreadable(grammar: Grammar) -> None:
    assert _read("cd /tmp", grammar) == [("cd", [])]
    assert _read("cd /tmp /var", grammar) is None  # one [dir] only
    assert _read("wc -l", grammar) == [("wc", ["-l"])]
    assert _read("wc -l f", grammar) is None  # this wc takes no file
    assert _read("cd -- -P", grammar) == [("cd", [])]  # after --, -P is the directory


def test_command_places(grammar: Grammar) -> None:
    # A quoted command string nests; its flags count for the utility holding it too.
    assert _read("su -c 'wc -l'", grammar) == [("su", ["-c", "-l"]), ("wc", ["-l"])]
    assert _read("su -c wc", grammar) is None  # unquoted: no place takes it
    assert _read("su -c 'ls | wc -l'", grammar) is None  # a pipeline in the string
    assert _read("su -c 'ls $HOME'", grammar) is None  # an expansion in the string
    # A command written onto its flag: the official parser fails on it.
    assert _read("rsync -a --rsh='ssh -p 22' a b", grammar) is None
    assert _read("rsync -e'ssh' a b", grammar) is None
    # xargs: the rest is the command, and a missing -I is counted.
    assert _read("xargs -0 wc -l", grammar) == [("xargs", ["-0", "-I", "-l"]), ("wc", ["-l"])]
    assert _read("xargs -I {} ls -l {}", grammar) == [("xargs", ["-I", "-l"]), ("ls", ["-l"])]
    assert _read("xargs -i{} ls -l {}", grammar) == [("xargs", ["-I", "-l"]), ("ls", ["-l"])]  # rewritten first
    assert _read("xargs -I {} wc -l {}", grammar) is None  # this wc takes no file, in xargs too
    # watch's first place takes a quoted command, the second the rest.
    assert _read("watch -n 5 'wc -l f'", grammar) is None  # wc takes no file: the string fails
    assert _read("watch -n 5 wc -l", grammar) == [("watch", ["-l", "-n"]), ("wc", ["-l"])]


def test_find_operators_exec_and_parentheses(grammar: Grammar) -> None:
    assert _read("find . -type f -exec ls -l {} \\;", grammar) == [
        ("find", ["-exec::;", "-l", "-type"]),
        ("ls", ["-l"]),
    ]
    assert _read("find . -exec ls -R {} +", grammar) == [("find", ["-R", "-exec::+"]), ("ls", ["-R"])]
    assert _read("find . -exec wc -l {} +", grammar) is None  # the body is checked too
    # Operators and balanced parentheses are no flags.
    assert _read("find . \\( -name a -o -name b \\) -print", grammar) == [("find", ["-name", "-print"])]
    assert _read("find . ! -name a", grammar) == [("find", ["-name"])]
    # Everything after a "(" left open is lost.
    assert _read("find . -type f \\( -name a -print", grammar) == [("find", ["-type"])]
    # An exec body headed by a parameter is an argument: no nested utility, still readable.
    assert _read("find . -exec $SHELL -c 'wc' {} \\;", grammar) == [("find", ["-exec::;"])]
    assert _read("find . -name", grammar) is None


def test_surface_rules_before_parsing(grammar: Grammar) -> None:
    assert _read("$ ls -l", grammar) == [("ls", ["-l"])]  # a prompt sign is dropped
    assert _read("#find . -print", grammar) == [("find", ["-print"])]
    assert _read("egrep -v x f", grammar) == [("grep", ["-E", "-v"])]  # egrep reads as grep -E
    assert _read("ls -l |& grep -v x", grammar) == [("ls", ["-l"]), ("grep", ["-v"])]  # |& is a pipe
    assert _read("ls -l > out", grammar) is None  # a redirection is not
