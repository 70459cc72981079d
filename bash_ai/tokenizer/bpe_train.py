"""Byte-level BPE training with incremental pair counts.

Each distinct pre-token chunk is kept once with its frequency. Pair counts and a pair -> chunks
index are built once; a merge rewrites only the chunks that contain the pair and adjusts only
the counts of the pairs next to each merge site. The best pair comes from a heap with lazy invalidation:
after a merge, every pair that does not involve the new token can only lose occurrences, so a
stale heap entry over-estimates its pair; a popped entry whose count is out of date is pushed
back with the current count, and a popped entry that is up to date is the true maximum. Pairs
with the new token are new, and are pushed once after the merge with their final counts.

Tie-breaking (deterministic): the highest count wins; among equal counts, the smallest
``(left id, right id)``. A pair whose bytes equal an existing token's is skipped for good, so
every token has distinct bytes and exactly one merge that makes it (HF's BPE model needs that);
with left-to-right merging this is a safety net that random searches never saw trigger.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable

# Pairs are one int, ``left << SHIFT | right``: faster to hash than tuples, and their order is
# the order of ``(left, right)``, which the heap uses to break ties.
SHIFT = 20
MAX_VOCAB = 1 << SHIFT
_MASK = MAX_VOCAB - 1


def count_chunks(texts: Iterable[str], split: Callable[[str], list[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(split(text))
    return counts


def train_merges(chunks: dict[str, int], n_merges: int, min_frequency: int = 2) -> list[tuple[int, int]]:
    """Up to ``n_merges`` merges, in order; merge ``i`` makes token ``256 + i``."""
    words: list[list[int]] = []
    freqs: list[int] = []
    for chunk, freq in chunks.items():
        data = chunk.encode("utf-8", "surrogatepass")
        if len(data) > 1:
            words.append(list(data))
            freqs.append(freq)

    counts: dict[int, int] = {}
    where: dict[int, set[int]] = {}
    for wi, word in enumerate(words):
        freq = freqs[wi]
        for key in {a << SHIFT | b for a, b in zip(word, word[1:], strict=False)}:
            where.setdefault(key, set()).add(wi)
        for a, b in zip(word, word[1:], strict=False):
            key = a << SHIFT | b
            counts[key] = counts.get(key, 0) + freq

    heap = [(-c, key) for key, c in counts.items()]
    heapq.heapify(heap)
    token_bytes = [bytes([i]) for i in range(256)]
    known = set(token_bytes)
    merges: list[tuple[int, int]] = []
    min_frequency = max(1, min_frequency)

    while len(merges) < n_merges and heap:
        neg, key = heap[0]
        current = counts.get(key, 0)
        if current != -neg:
            if current > 0:
                heapq.heapreplace(heap, (-current, key))
            else:
                heapq.heappop(heap)
            continue
        if current < min_frequency:
            break
        heapq.heappop(heap)
        a, b = key >> SHIFT, key & _MASK
        data = token_bytes[a] + token_bytes[b]
        if data in known:
            continue  # another merge already made these bytes
        new = len(token_bytes)
        token_bytes.append(data)
        known.add(data)
        merges.append((a, b))
        for fresh in _apply(words, freqs, where.pop(key, set()), a, b, new, counts, where):
            heapq.heappush(heap, (-counts[fresh], fresh))
    return merges


def _apply(
    words: list[list[int]],
    freqs: list[int],
    hits: set[int],
    a: int,
    b: int,
    new: int,
    counts: dict[int, int],
    where: dict[int, set[int]],
) -> list[int]:
    """Merge ``(a, b)`` into ``new`` in place in the chunks ``hits``; return the pairs with ``new``.

    Only the pairs around each merge site change: the left neighbour ``x`` trades ``(x, a)`` for
    ``(x, new)`` and the right neighbour ``y`` trades ``(b, y)`` for ``(new, y)``. Sites are rewritten
    left to right in place, so in ``a b a b`` the second site's left neighbour is already ``new``
    and its ``(new, a)`` cancels the first site's gain (HF's trainer does the same bookkeeping).
    """
    merged = a << SHIFT | b
    fresh: set[int] = set()
    for wi in hits:
        word = words[wi]
        freq = freqs[wi]
        j = -1
        while True:
            try:
                j = word.index(a, j + 1)
            except ValueError:
                break
            if j + 1 == len(word):
                break
            if word[j + 1] != b:
                continue
            if j:
                x = word[j - 1]
                _add(counts, x << SHIFT | a, -freq, merged)
                k = x << SHIFT | new
                counts[k] = counts.get(k, 0) + freq
                fresh.add(k)
                where.setdefault(k, set()).add(wi)
            if j + 2 < len(word):
                y = word[j + 2]
                _add(counts, b << SHIFT | y, -freq, merged)
                k = new << SHIFT | y
                counts[k] = counts.get(k, 0) + freq
                fresh.add(k)
                where.setdefault(k, set()).add(wi)
            word[j] = new
            del word[j + 1]
    counts.pop(merged, None)  # every occurrence is gone: merged, or the leftover of an odd run
    return [k for k in fresh if k in counts]


def _add(counts: dict[int, int], key: int, delta: int, skip: int) -> None:
    if key == skip:
        return
    left = counts[key] + delta
    if left:
        counts[key] = left
    else:
        del counts[key]
