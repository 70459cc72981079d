"""Ghost text that completes the word being typed instead of starting a new token after it.

Tokenising ``find . -na`` ends in a token for ``-na`` that the model has rarely seen before ``me``
(it learned ``-name`` as one or two other tokens), so a plain continuation goes wrong at the very
first step. Here the prompt stops at the last word boundary (``find .``), and the first generated
tokens are constrained to spell what was removed (`` -na``) before the model continues freely:
greedy, on the model's own cache, up to a newline or the end of text.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine

_VOCAB_BYTES: weakref.WeakKeyDictionary[Any, list[bytes]] = weakref.WeakKeyDictionary()


def _token_bytes(engine: Engine) -> list[bytes]:
    tokenizer = engine.tokenizer
    try:
        return _VOCAB_BYTES[tokenizer]
    except (KeyError, TypeError):
        pass
    table = [tokenizer.decode_bytes([i]) for i in range(int(engine.config.vocab_size))]
    with contextlib.suppress(TypeError):  # a tokenizer that cannot be weakly referenced: no cache
        _VOCAB_BYTES[tokenizer] = table
    return table


def split_at_boundary(text: str) -> tuple[str, str]:
    """``(head, tail)``: ``tail`` is the unfinished last word with the blanks before it, or only the
    trailing blanks when the line ends with one (``"find . -na"`` -> ``("find .", " -na")``)."""
    stripped = text.rstrip(" \t")
    if len(stripped) < len(text):
        return stripped, text[len(stripped) :]
    start = len(text)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return text[:start], text[start:]


def complete_line(engine: Engine, prefix: str, max_tokens: int, cancel: threading.Event | None = None) -> str:
    """Greedy rest of the bash line ``prefix`` (``""`` when cancelled or nothing fits)."""
    head, tail = split_at_boundary(prefix)
    if not head.strip():  # the whole line is one word: complete it in place
        head, tail = "", prefix
    want = tail.encode("utf-8")
    table = _token_bytes(engine)
    never = np.zeros(len(table), dtype=bool)
    specials = [i for i in engine.special_ids if i < len(table)]
    never[specials] = True
    never[engine.control_ids] = True
    ids = engine.task_ids("complete", head)
    context = int(engine.context_length)
    # Room for the typed word (a token per byte at worst) and the suggestion, inside the context.
    ids = ids[-max(8, context - len(want) - max_tokens - 1) :]
    budget = min(max_tokens + len(want), context - len(ids) - 1)
    if budget < len(want):
        return ""
    cache = engine.model.new_cache(1)
    logits = _last(engine.model.forward(np.asarray([ids], dtype=np.int64), cache, last_only=True))
    out = bytearray()
    for _ in range(budget):
        if cancel is not None and cancel.is_set():
            return ""
        rest = bytes(want[len(out) :]) if len(out) < len(want) else b""
        scores = logits.astype(np.float64).copy()
        if rest:
            fits = np.array([bool(b) and (b.startswith(rest) or rest.startswith(b)) for b in table])
            scores[~fits | never] = -np.inf
        else:
            scores[never & (np.arange(len(table)) != engine.eot_id)] = -np.inf
        token = int(np.argmax(scores))
        if not np.isfinite(scores[token]) or token == engine.eot_id:
            break
        out += table[token]
        if len(out) >= len(want) and b"\n" in out[len(want) :]:
            break
        logits = _last(engine.model.forward(np.asarray([[token]], dtype=np.int64), cache, last_only=True))
    text = bytes(out).decode("utf-8", errors="ignore")
    if not text.startswith(tail):
        return ""
    return text[len(tail) :].split("\n", 1)[0].rstrip()


def _last(logits: Any) -> np.ndarray:
    arr = np.asarray(logits)
    return arr[0, -1] if arr.ndim == 3 else arr[0]
