"""The official NLC2CMD rules, one by one, with the expected numbers worked out by hand.

Per position: right utility -> (1 + S_F) / 2 with S_F = (2|F∩| - |F∪|) / max(1, |Fp|, |Fr|) (1 when
neither has flags); wrong or missing utility -> -1; the command's score is the mean (times the
confidence). A command the official parser cannot read has no utilities at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bash_ai.errors import UsageError
from bash_ai.evaluation.nlc2cmd_official import official_score, official_topk, official_utility_flags


def _read(command: str) -> list[tuple[str, list[str]]] | None:
    found = official_utility_flags(command)
    return None if found is None else [(u, sorted(f)) for u, f in found]


def test_a_utility_outside_the_grammar_makes_the_whole_command_unreadable() -> None:
    assert _read("git status") is None
    assert _read("ls -l | foo") is None  # one unknown utility is enough
    assert _read("/bin/ls -l") is None and _read("./run.sh") is None
    # Unreadable prediction, readable reference: every reference position scores -1.
    assert official_score("git status", "ls -l | wc -l") == -1.0
    # Neither side readable: no positions at all, 0.0.
    assert official_score("git status", "git log") == 0.0
    # Our own rules read git, so they score the same pair differently: the modes do differ.
    from bash_ai.evaluation import nlc2cmd_score

    assert nlc2cmd_score("git status", "git status") == 1.0 and official_score("git status", "git status") == 0.0


def test_lists_redirections_and_compound_commands_are_unreadable() -> None:
    for command in (
        "cd /tmp && ls -l",
        "ls -l; ls -a",
        "ls -l || ls -a",
        "ls -l > out.txt",
        "ls -l 2>/dev/null",
        "(ls -l)",
        "{ ls -l; }",
        "for f in *; do echo $f; done",
        "! ls -l",
        "time ls -l",
        "echo $((1 + 2))",
        "X=1 ls -l",
        "echo 'unclosed",
    ):
        assert _read(command) is None, command
    assert _read("ls -l;") == [("ls", ["-l"])] and _read("ls -l &") == [("ls", ["-l"])]
    assert official_score("ls -l > out.txt", "ls -l") == -1.0


def test_pipelines_score_position_by_position() -> None:
    # ls: {-l} vs {-l, -a}: S_F = (2*1 - 2) / 2 = 0 -> 0.5; grep: {} vs {-i}: S_F = -1 -> 0.0.
    assert official_score("ls -l | grep foo", "ls -la | grep -i foo") == pytest.approx(0.25)
    # A missing third utility: (1 + 1 - 1) / 3.
    assert official_score("cat a | sort", "cat a | sort | uniq -c") == pytest.approx(1 / 3)


def test_find_exec_bodies_count_for_find_too() -> None:
    assert _read("find . -name '*.py' -exec grep -l foo {} \\;") == [
        ("find", ["-exec::;", "-l", "-name"]),
        ("grep", ["-l"]),
    ]
    assert _read("find . -type f -exec rm {} +") == [("find", ["-exec::+", "-type"]), ("rm", [])]
    # find {-name, -exec::;, -l} vs {-name}: S_F = (2 - 3) / 3 -> 1/3; grep vs xargs: -1;
    # nothing vs grep: -1. Mean (1/3 - 2) / 3 = -5/9.
    score = official_score("find . -name '*.py' -exec grep -l foo {} \\;", "find . -name '*.py' | xargs grep -l foo")
    assert score == pytest.approx(-5 / 9)
    # find's logic operators are not flags, its predicates stay whole, -mtime's argument is no flag.
    assert _read("find . \\( -name a -o -name b \\) ! -mtime -3 -print") == [("find", ["-mtime", "-name", "-print"])]
    assert _read("find . -foo") is None  # no such predicate


def test_xargs_counts_an_implicit_dash_i_and_its_commands_flags() -> None:
    assert _read("find . -print0 | xargs -0 rm -f") == [
        ("find", ["-print0"]),
        ("xargs", ["-0", "-I", "-f"]),
        ("rm", ["-f"]),
    ]
    assert _read("xargs -I{} mv {} /tmp") == [("xargs", ["-I"]), ("mv", [])]
    assert _read("xargs -n 1 echo") == [("xargs", ["-I", "-n"]), ("echo", [])]
    assert _read("xargs") == [("xargs", [])]  # no command: no implicit -I


def test_substitutions_nest_and_lend_their_flags_to_the_outer_utility() -> None:
    assert _read("echo $(ls -l)") == [("echo", ["-l"]), ("ls", ["-l"])]
    assert _read("wc -l `find . -name x`") == [("wc", ["-l", "-name"]), ("find", ["-name"])]
    assert _read("diff <(sort a) <(sort -r b)") == [("diff", ["-r"]), ("sort", []), ("sort", ["-r"])]
    # echo {-l} vs {-l, -a}: 0.5; ls the same: 0.5.
    assert official_score("echo $(ls -l)", "echo `ls -la`") == pytest.approx(0.5)
    # An assignment is read for its substitution only.
    assert _read("x=$(ls -l)") == [("ls", ["-l"])]


def test_command_strings_of_shells_nest_when_quoted_and_plain() -> None:
    assert _read("bash -c 'ls -l'") == [("bash", ["-c", "-l"]), ("ls", ["-l"])]
    assert _read("bash -c ls") is None
    assert _read("sh -c 'echo $0'") is None
    assert _read("nohup ls -l") == [("nohup", ["-l"]), ("ls", ["-l"])]
    assert _read("env ls -l") == [("env", [])]  # env's command is only an argument
    assert _read("watch 'ls -l'") == [("watch", ["-l"]), ("ls", ["-l"])]


def test_what_the_grammar_says_of_a_few_utilities() -> None:
    assert _read("echo -x foo") == [("echo", [])] and _read("echo -ne foo") == [("echo", ["-e", "-n"])]
    assert _read("ps aux") is None and _read("ps -aux") == [("ps", ["-a", "-u"])]  # -u takes the x
    assert _read("tmux new-session") is None and _read("tmux") == [("tmux", [])]
    assert _read("diff -Naur a b") == [("diff", ["-N", "-a", "-u"])]  # its -u takes a number: "r"
    assert _read("find . -name .git -prune -o -print") == [("find", ["-name", "-print"])]
    assert _read("find . ( -name a -o -name b ) -type f") == [("find", ["-name", "-type"])]  # " ( " is escaped


def test_where_the_substitution_sits_in_a_word_matters() -> None:
    assert _read("$(dirname $0) -x") == [("dirname", [])]  # a substitution as the command: itself only
    assert _read('echo "$x $(pwd)"') == [("echo", [])]  # a parameter first: a plain argument
    assert _read("echo $(pwd)/x") == [("echo", []), ("pwd", [])]
    assert _read("echo $(pwd)/$x") is None  # a parameter after a substitution


def test_flag_normalisation() -> None:
    assert _read("tar xzf a.tgz") == [("tar", ["-f", "-x", "-z"])]  # the first word gets its dash
    assert _read("ls -lh --sort=size") == [("ls", ["--sort", "-h", "-l"])]
    assert _read("head -n5 f") == [("head", ["-n"])]
    assert _read("head -5 f") == [("head", ["-"])] and _read("kill -9 1") == [("kill", ["-"])]
    assert _read("comm -23 a b") == [("comm", ["-2", "-3"])] and _read("ls -1") == [("ls", ["-1"])]
    assert _read("mount -oremount,rw /") == [("mount", ["-o"])]  # the argument of -o is attached
    assert _read("cut -f -20 f") == [("cut", ["-f"])]  # -f takes the next word
    assert _read("grep '-v' x") == [("grep", [])]  # a quoted word is no flag
    assert _read("egrep foo f") == [("grep", ["-E"])] and _read("fgrep -i foo f") == [("grep", ["-F", "-i"])]
    assert _read("sudo rm -rf /tmp/x") == [("rm", ["-f", "-r"])]  # sudo is deleted before parsing


def test_confidence_scales_every_position() -> None:
    assert official_score("ls -l", "ls -l", confidence=0.5) == 0.5
    assert official_score("cat x", "ls -l", confidence=0.25) == -0.25


def test_top_k_skips_empty_predictions_then_takes_the_max_if_positive_else_the_mean() -> None:
    assert official_topk(["git x", "ls -l"], "ls -l") == 1.0  # [-1, 1]: the max
    # [-1, -1/3]: no positive score, so the mean -2/3 (not the least bad).
    assert official_topk(["cat a", "ls -l | cat"], "ls -l | wc -l | sort") == pytest.approx((-1 + (1 - 1 - 1) / 3) / 2)
    assert official_topk(["", "ls -l"], "ls -l") == 1.0
    assert official_topk(["", ""], "ls -l") == -1.0 and official_topk([], "ls") == -1.0
    assert official_topk(["ls -l", "ls -la"], "ls -l", [0.5, 1.0]) == 0.5  # 0.5 * 1 vs 1.0 * 0.5
    with pytest.raises(UsageError):
        official_topk(["ls"], "ls", [1.5])
    with pytest.raises(UsageError):
        official_topk(["ls", "ls"], "ls", [1.0])


def test_most_nl2bash_test_references_are_readable(shared_data: Path) -> None:
    """The organisers found 169 of the 782 test references unreadable; we find a similar share."""
    references = (shared_data / "nl2bash" / "test.cm").read_text(encoding="utf-8").splitlines()
    readable = sum(official_utility_flags(r) is not None for r in references)
    assert len(references) == 782
    assert 0.75 <= readable / len(references) <= 0.83, readable
    json.dumps(readable)  # a plain int, reported in the JSON
