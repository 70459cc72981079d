"""ROUGE-L F1, with values worked out by hand."""

from __future__ import annotations

import pytest

from bash_ai.evaluation.rouge import lcs_length, rouge_l, words


def test_lcs_and_rouge_l_by_hand() -> None:
    assert words("Create a gzipped archive!") == ["create", "a", "gzipped", "archive"]
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d", "e"]) == 3
    # candidate 4 words, reference 5, LCS 3 ("create", "archive", "file"): P 3/4, R 3/5, F1 2/3.
    assert rouge_l("Create an archive file", "create a tar archive file") == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert rouge_l("List files", "list files") == 1.0  # case and punctuation do not count
    assert rouge_l("", "list files") == 0.0 and rouge_l("---", "x") == 0.0
    assert rouge_l("b a", "a b") == 0.5  # order matters: LCS 1
