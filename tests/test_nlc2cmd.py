"""The NLC2CMD score: the competition's own worked examples, and more computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bash_ai.errors import UsageError
from bash_ai.nlc2cmd import flag_score, nlc2cmd_accuracy, nlc2cmd_score, nlc2cmd_topk, utility_flags

# The examples published with the competition's metric code (IBM nlc2cmd README), verbatim.
OFFICIAL = [
    # find: ref {-type, -ctime}, pred {-type}: S_F = (2*1 - 2)/2 = 0 -> (1+0)/2 = 0.5;
    # tail: same flags {-n} -> S_F = (2-1)/1 = 1 -> 1.0.  Mean over T=2: (0.5 + 1) / 2 = 0.75.
    ("find . -type f | tail -n 5", "find . -type f -ctime -3 | tail -n 5", 0.75),
    # Parameters do not count: df, grep without flags on both sides -> 1 each.
    ("df | grep diskpath", "df | grep /dev/disk0s2", 1.0),
    # Flag order does not count.
    (
        "find . -type f -regextype posix-egrep -regex '^.*/[a-z][^/]*$'",
        "find . -regextype posix-egrep -regex '^.*/[a-z][^/]*$' -type f",
        1.0,
    ),
    # Wrong utility: -1.
    ("touch directory", "mkdir directory", -1.0),
    # Order of utilities matters: both positions mismatch -> (-1 + -1) / 2.
    ("tail -n 1 | df --total", "df --total | tail -n 1", -1.0),
    # -EXdsx splits into -E -X -d -s -x: pred {-E,-X,-d,-s,-x,-name}, ref {-name}:
    # S_F = (2*1 - 6)/6 = -2/3 -> (1 - 2/3)/2 = 1/6.
    ("find / -EXdsx -name linux", "find / -name linux", 1 / 6),
]


@pytest.mark.parametrize(("predicted", "reference", "expected"), OFFICIAL)
def test_official_worked_examples(predicted: str, reference: str, expected: float) -> None:
    assert nlc2cmd_score(predicted, reference) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("predicted", "reference", "expected"),
    [
        # identical -> 1.0
        ("ls -la /tmp", "ls -la /tmp", 1.0),
        # -la and -al are the same flags once split
        ("ls -al", "ls -la", 1.0),
        # same utility, half the flags: pred {-l}, ref {-l,-a}: (2*1 - 2)/2 = 0 -> 0.5
        ("ls -l", "ls -la", 0.5),
        # same utility, disjoint flags: pred {-r}, ref {-n}: (0 - 2)/1 = -2 -> (1-2)/2 = -0.5
        ("sort -r f", "sort -n f", -0.5),
        # one flag too many: pred {-l,-a,-h}, ref {-l,-a}: (4 - 3)/3 = 1/3 -> 2/3
        ("ls -lah", "ls -la", 2 / 3),
        # flags on one side only: pred {}, ref {-r}: (0 - 1)/1 = -1 -> 0.0
        ("rm x", "rm -r x", 0.0),
        # missing second utility: T=2, [ls ok = 1, missing = -1] -> 0.0
        ("ls", "ls | wc -l", 0.0),
        # extra utility: T=3, [1, 1, -1] -> 1/3
        ("ls | sort | head", "ls | sort", 1 / 3),
        # --opt=value counts as --opt
        ("du --max-depth=1 .", "du --max-depth=2 /var", 1.0),
        # find -exec: find {-name,-exec} then rm {-f}; pred rm lacks -f -> rm scores 0 -> (1 + 0)/2
        ("find . -name x -exec rm {} \\;", "find . -name y -exec rm -f {} \\;", 0.5),
        # sudo is a utility of its own; then the wrapped command
        ("sudo apt-get update", "apt-get update", -1.0),
        # a completely different command
        ("cat a.txt", "tar -czf a.tgz dir", -1.0),
        # neither runs a program: 0.0 as in the official code (empty score list)
        ("x=1", "", 0.0),
    ],
)
def test_hand_computed_scores(predicted: str, reference: str, expected: float) -> None:
    assert nlc2cmd_score(predicted, reference) == pytest.approx(expected)


def test_utility_flags_extraction() -> None:
    assert utility_flags("find . -type f -ctime -3 | tail -n 5") == [
        ("find", frozenset({"-type", "-ctime"})),
        ("tail", frozenset({"-n"})),
    ]
    # pre-order: a command, then the commands it nests; names are lowercased basenames
    assert [u for u, _ in utility_flags("/usr/bin/Find . | xargs -0 grep -l x; echo $(date +%s)")] == [
        "find",
        "xargs",
        "grep",
        "echo",
        "date",
    ]
    # xargs keeps its own flags; grep gets its own
    assert utility_flags("xargs -0 grep -il x") == [("xargs", frozenset({"-0"})), ("grep", frozenset({"-i", "-l"}))]
    # -n5 splits to -n (the 5 is a value); head -5 keeps the numeric flag whole
    assert utility_flags("tail -n5 f") == [("tail", frozenset({"-n"}))]
    assert utility_flags("head -5 f") == [("head", frozenset({"-5"}))]
    # find: -perm -644 and -mtime -3 are arguments, not flags
    assert utility_flags("find . -perm -644 -mtime -3") == [("find", frozenset({"-perm", "-mtime"}))]
    # bash -c strings are arguments (as in the competition's parser)
    assert utility_flags("bash -c 'rm -rf x'") == [("bash", frozenset({"-c"}))]
    # everything after -- is an argument
    assert utility_flags("rm -f -- -x") == [("rm", frozenset({"-f"}))]
    # programs with single-dash long options are not split
    assert utility_flags("java -jar app.jar") == [("java", frozenset({"-jar"}))]


def test_flag_score_definition() -> None:
    assert flag_score(frozenset(), frozenset()) == 1.0
    assert flag_score(frozenset({"-a"}), frozenset({"-a"})) == 1.0
    assert flag_score(frozenset({"-a"}), frozenset({"-b"})) == -2.0
    assert flag_score(frozenset({"-a", "-b"}), frozenset({"-a"})) == 0.0


def test_confidence_scales_the_score() -> None:
    assert nlc2cmd_score("ls -l", "ls -la", confidence=0.5) == pytest.approx(0.25)
    assert nlc2cmd_score("cat", "ls", confidence=0.5) == pytest.approx(-0.5)


def test_topk_takes_the_best_positive_else_the_mean() -> None:
    ref = "ls -la"
    # scores: -1 (cat), 0.5 (ls -l), 1.0 (ls -al) -> max = 1.0
    assert nlc2cmd_topk(["cat x", "ls -l", "ls -al"], ref) == pytest.approx(1.0)
    # scores: -1, -1, 0.0 (ls -x -y -z: (2*0-5)/3 ... below) -> no positive -> mean
    # ls -xyz: pred {-x,-y,-z}, ref {-l,-a}: (0 - 5)/3 = -5/3 -> (1 - 5/3)/2 = -1/3
    assert nlc2cmd_topk(["cat x", "pwd", "ls -xyz"], ref) == pytest.approx((-1 - 1 - 1 / 3) / 3)
    with pytest.raises(UsageError):
        nlc2cmd_topk([], ref)
    with pytest.raises(UsageError):
        nlc2cmd_topk(["ls"], ref, confidences=[1.0, 0.5])


def test_accuracy_is_the_mean_over_examples() -> None:
    preds = [["ls -la"], ["cat x"]]
    refs = ["ls -al", "ls"]
    assert nlc2cmd_accuracy(preds, refs) == pytest.approx((1.0 - 1.0) / 2)
    with pytest.raises(UsageError):
        nlc2cmd_accuracy(preds, refs[:1])


_WORDS = st.sampled_from(
    ["ls", "-l", "-a", "grep", "x", "|", "&&", ";", "find", ".", "-name", "sort", "-rn", "$(date)", "'a b'"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, max_size=10), st.lists(_WORDS, max_size=10))
def test_score_is_bounded_and_identity_is_best(pred: list[str], ref: list[str]) -> None:
    p, r = " ".join(pred), " ".join(ref)
    score = nlc2cmd_score(p, r)
    assert -1.0 <= score <= 1.0
    if utility_flags(r):
        assert nlc2cmd_score(r, r) == 1.0
        assert score <= 1.0
