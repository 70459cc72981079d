"""Pre-tokenization: split text into the chunks BPE merges inside, and cut out special tokens.

The pattern is written for English and shell at once, and only with constructs that Python's
``re`` and Oniguruma (HF ``tokenizers``' Split pre-tokenizer) read identically: explicit ASCII
ranges, one-character lookbehind, lookahead, greedy alternation. No ``\\w``/``\\s``/``\\d`` (their
Unicode tables differ between the engines) and no anchors (``$`` is multi-line in Oniguruma).
Every non-ASCII character counts as a word character, so ``café``, ``naïve`` and emoji runs stay
whole, and the split is the same in both engines for any string.

Classes (ASCII): W word = letters, digits, ``_`` and all non-ASCII; S space = ``\\t\\n\\v\\f\\r`` and
space; R prefix punctuation = ``$ % . / @ \\ ~``; Q = other punctuation and control characters.
Alternatives, first match wins at each position:

1. ``'s 't 're 've 'm 'll 'd`` right after a word character and not followed by one (``it's``,
   but not the quote in ``grep 'src'``);
2. long flags `` --max-depth`` (hyphenated words stay whole);
3. short flags and hyphen-words `` -la``, `` -9``, ``-known``;
4. redirections `` 2>&1``, ``>>``, ``<<``;
5. words with an optional leading space and one optional R prefix: `` grep``, ``/usr``,
   ``.bashrc``, `` $HOME``, ``%s``, ``\\n``, ``x86_64``;
6. punctuation runs with an optional leading space, stopping before an R character that starts
   a word (so ``"*.py"`` gives `` "*``, ``.py``, ``"``);
7. whitespace, leaving the last space to the next chunk (GPT-2 style), so ``"\\n    if"`` gives
   ``"\\n   "`` and `` if`` and indentation compresses;
8. any other whitespace run (``"\\n\\t"``, trailing spaces).

Runs are bounded (64 characters of a class, at most 4 hyphenated parts of a long flag, 3
redirection characters), so no chunk is long enough to make BPE slow.

The alternatives together match every character, so the chunks always concatenate to the input.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import lru_cache

_W = r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
_S = r"[\t-\r ]"
_R = r"[$%./@\\~]"
_Q = r"[\x00-\x08\x0e-\x1f!-#&-\-:-?\[\]^`{-}\x7f]"

# No chunk grows past _N characters of a class (plus a space and a prefix): a megabyte of "=" or
# of spaces in a scraped script becomes many bounded chunks instead of one that costs BPE
# quadratic time to train on and to encode.
_N = 64
PATTERN = "|".join(
    (
        rf"(?<={_W})'(?:[sdmt]|ll|ve|re)(?!{_W})",
        rf" ?--{_W}{{1,{_N}}}(?:-{_W}{{1,{_N}}}){{0,4}}",
        rf" ?-{_W}{{1,{_N}}}",
        r" ?[0-9]{0,4}[<>]{1,3}&?[0-9]{0,4}",
        rf" ?{_R}?{_W}{{1,{_N}}}",
        rf" ?(?:{_Q}|{_R}(?!{_W})){{1,{_N}}}",
        rf"{_S}{{1,{_N}}}(?= [^\t-\r ])",
        rf"{_S}{{1,{_N}}}",
    )
)
# The name stored in tokenizer files: a file names its pre-tokenizer instead of carrying a regex,
# so loading never compiles an arbitrary pattern, and a changed pattern needs a new name.
PRETOKENIZER = "bash-ai-v1"
PATTERNS = {PRETOKENIZER: PATTERN}

_REGEX = re.compile(PATTERN)


def split(text: str) -> list[str]:
    """The chunks of ``text``; ``"".join(split(text)) == text``."""
    return _REGEX.findall(text)


def finder(name: str = PRETOKENIZER) -> re.Pattern[str]:
    return re.compile(PATTERNS[name])


@lru_cache(maxsize=64)
def _special_regex(specials: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so a special that is a prefix of another never shadows it.
    ordered = sorted(specials, key=lambda s: (-len(s), s))
    return re.compile("|".join(re.escape(s) for s in ordered))


def split_specials(text: str, specials: Collection[str]) -> Iterator[tuple[str, bool]]:
    """``(piece, is_special)`` in order; ordinary pieces are never empty."""
    if not specials:
        if text:
            yield text, False
        return
    start = 0
    for match in _special_regex(tuple(sorted(specials))).finditer(text):
        if match.start() > start:
            yield text[start : match.start()], False
        yield match.group(), True
        start = match.end()
    if start < len(text):
        yield text[start:], False
