"""ROUGE-L (Lin 2004): the longest common subsequence of words, as an F1 of precision and recall.

Words are lower-cased alphanumeric runs, so punctuation and case do not count. Written here (a
dozen lines) rather than importing ``rouge-score``, which would pull nltk into the evaluation.
"""

from __future__ import annotations

from bash_ai.retrieval.bm25 import words

__all__ = ["lcs_length", "rouge_l", "words"]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 in [0, 1]; 0.0 when either text has no words."""
    cand, ref = words(candidate), words(reference)
    common = lcs_length(cand, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)
