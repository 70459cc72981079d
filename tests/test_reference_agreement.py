"""benchmarks/reference_agreement.py: the ceilings the references themselves set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from reference_agreement import known_program_bound, request_key, same_request_pairs  # noqa: E402

from bash_ai.nlc2cmd import nlc2cmd_score  # noqa: E402


def test_request_key_ignores_case_and_punctuation() -> None:
    assert request_key("Find all *.txt files.") == request_key("find all  *.TXT files")
    assert request_key("find all files") != request_key("find all dirs")


def test_same_request_pairs_scores_each_ordered_pair_of_one_request() -> None:
    requests = ["List files.", "list files", "List files", "Show the date"]
    commands = ["ls -l", "ls -a", "find .", "date"]
    scores = same_request_pairs(requests, commands)
    written = commands[:3]
    expected = [nlc2cmd_score(a, b) for a in written for b in written if a != b]
    assert sorted(scores) == pytest.approx(sorted(expected))
    assert len(scores) == 6  # "Show the date" was written once: no pair


def test_same_request_pairs_counts_identical_commands_as_agreement() -> None:
    assert same_request_pairs(["count lines", "Count lines"], ["wc -l f", "wc -l g"]) == [1.0, 1.0]


def test_known_program_bound_counts_unknown_programs_as_wrong() -> None:
    references = ["frobnicate -x a | grep y", "grep -i y f"]
    assert known_program_bound(references, ["anything", "anything"], {"grep"}) == pytest.approx((0.0 + 1.0) / 2)
    # a program the request names can be written without having been seen
    assert known_program_bound(references[:1], ["run frobnicate on a"], {"grep"}) == pytest.approx(1.0)
    assert known_program_bound(references[:1], ["run it"], set()) == pytest.approx(-1.0)
