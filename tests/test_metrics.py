"""Exact match, the command templater, validity and danger rates, bits per byte."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bash_ai.errors import UsageError
from bash_ai.evaluation import (
    bits_per_byte,
    command_template,
    danger_rate,
    exact_match,
    normalize_ws,
    syntax_valid_rate,
    template_match,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  ls   -la  ", "ls -la"),
        ("ls\t-la", "ls -la"),
        ("echo 'a   b'   c", "echo 'a   b' c"),
        ('echo "a \\"  b"   c', 'echo "a \\"  b" c'),
        ("echo x\\ \\ y", "echo x\\ \\ y"),
        ("ls \\\n  -la", "ls -la"),
        ("ls  \n\n   pwd  ", "ls\npwd"),
        ("ls|wc", "ls|wc"),
    ],
)
def test_normalize_ws(raw: str, normalized: str) -> None:
    assert normalize_ws(raw) == normalized


def test_exact_match_is_whitespace_only() -> None:
    assert exact_match("ls   -la ", " ls -la")
    assert not exact_match("ls -la", "ls -al")
    assert not exact_match("echo 'a  b'", "echo 'a b'")  # inside quotes spaces matter
    assert not exact_match("ls|wc", "ls | wc")  # operator spacing is not whitespace normalisation
    assert not exact_match('echo "x"', "echo 'x'")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab '\"\\\t\n|;")), max_size=30))
def test_normalize_ws_is_idempotent(text: str) -> None:
    once = normalize_ws(text)
    assert normalize_ws(once) == once


# Worked examples: command -> template.
TEMPLATES = [
    ('find . -name "*.txt" | xargs grep -l foo', "find ARG -name ARG | xargs grep -l ARG"),
    ("ls -la /tmp", "ls -a -l ARG"),
    ("tar -czf out.tgz dir", "tar -c -f -z ARG ARG"),
    ("grep -r foo . > out.txt 2>&1", "grep -r ARG ARG > ARG 2>&1"),
    ("rm $(find . -name '*.bak')", "rm $( find ARG -name ARG )"),
    ('for f in *.jpeg; do mv -- "$f" "${f%.jpeg}.jpg"; done', "for ARG in ARG ; do mv ARG ARG ; done"),
    ("find . -type f -exec chmod 644 {} \\;", "find ARG -type ARG -exec chmod ARG ARG \\;"),
    ("find . \\( -name a -o -name b \\) -print", "find ARG ( -name ARG -o -name ARG ) -print"),
    ("sudo apt-get install -y vim", "sudo apt-get install -y ARG"),
    ("head -5 notes.txt", "head -NUM ARG"),
    ("sort --key=2 -rn data", "sort --key -n -r ARG ARG"),
    ("cut -d, -f2 data.csv", "cut -d -f ARG ARG ARG"),
    ("diff <(ls a) <(ls b)", "diff <( ls ARG ) <( ls ARG )"),
    ("LC_ALL=C sort x", "LC_ALL=ARG sort ARG"),
    ("git push origin main", "git push ARG ARG"),
    ("cd /tmp && ls; pwd &", "cd ARG && ls ; pwd &"),
    ("(cd src && make) | tee log", "( cd ARG && make ) | tee ARG"),
    ("cat <<EOF\nhello\nEOF", "cat << ARG"),
    ("/usr/bin/find . -delete", "find ARG -delete"),
    ("echo 42", "echo ARG"),
]


@pytest.mark.parametrize(("command", "template"), TEMPLATES)
def test_command_template_worked_examples(command: str, template: str) -> None:
    assert command_template(command) == template


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ls -la /tmp", "ls -al ~/x"),  # flag order and arguments abstracted
        ("ls -l -a", "ls -la"),  # split short flags
        ("head -5 a", "head -10 b"),  # numbers are arguments
        ("grep -i 'foo bar' f.txt", 'grep -i "x" "$FILE"'),  # quoted strings and variables
        ("tar -czf out.tgz dir", "tar -zcf a.tgz b"),
        ("find . -name '*.py' | wc -l", 'find /src -name "*.c" |wc -l'),
        ("ls;", "ls"),  # a trailing separator is not structure
    ],
)
def test_template_match_pairs(a: str, b: str) -> None:
    assert template_match(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("cat a | sort", "cat a && sort"),  # different operator
        ("ls -l", "ls -a"),  # different flag
        ("git push origin main", "git pull origin main"),  # different subcommand
        ("find . -name a -o -name b", "find . -o -name a -name b"),  # find expressions keep order
        ("rm $(ls)", "rm $(pwd)"),  # nested commands are templated
        ("ls > out", "ls >> out"),  # redirection kind
        ("ls x y", "ls x"),  # argument count
        ("sudo rm x", "rm x"),
    ],
)
def test_template_mismatch_pairs(a: str, b: str) -> None:
    assert not template_match(a, b)


def test_syntax_valid_rate() -> None:
    assert syntax_valid_rate(["ls", "ls )", "echo 'x", "pwd"]) == 0.5
    assert syntax_valid_rate([]) == 0.0


def test_danger_rate() -> None:
    candidates = ["ls", "rm -rf /", "rm -rf *", "pwd"]
    assert danger_rate(candidates) == 0.5  # high and medium
    assert danger_rate(candidates, min_severity="high") == 0.25
    assert danger_rate([]) == 0.0
    with pytest.raises(UsageError):
        danger_rate(candidates, min_severity="low")


def test_bits_per_byte() -> None:
    # 8 bytes at log(256) nats each (a uniform byte model) is exactly 8 bits per byte.
    assert bits_per_byte(8 * math.log(256), 8) == pytest.approx(8.0)
    assert bits_per_byte(0.0, 10) == 0.0
    # ln 2 nats per byte is one bit per byte
    assert bits_per_byte(100 * math.log(2), 100) == pytest.approx(1.0)
    for nll, n in [(1.0, 0), (-1.0, 3), (math.nan, 3), (math.inf, 3)]:
        with pytest.raises(UsageError):
            bits_per_byte(nll, n)
