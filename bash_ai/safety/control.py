"""Terminal control characters in model text: made visible for display, kept out of answers.

A command holding ``ESC [ 2K`` or a carriage return can make a terminal show something other than
what runs (``touch M; echo safe #\\x1b[999D\\x1b[2K...`` displays as ``echo safe``). Every display
path shows model text through ``visible``; the danger rules flag such a command; and the engine
bans tokens holding control bytes unless the request asks for them (``control_token_ids``,
``request_wants_control``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from bash_ai.tokenizer import Tokenizer

# C0 controls other than tab and newline, DEL, and the C1 controls (U+0080..U+009F).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\r": "\\r", "\x1b": "\\x1b", "\x07": "\\a", "\x08": "\\b", "\x0b": "\\v", "\x0c": "\\f"}
# A token's bytes: C0 controls but tab and newline, DEL, or the UTF-8 start of a C1 control.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
_ASKS = re.compile(
    r"\b(escape (code|sequence|character)s?|ansi|control (character|code|sequence)s?|colou?r(s|ed|ful|ize|ise)?|"
    r"tput|terminal (title|bell)|bell character|carriage return|cursor)\b|\\x1b|\\e\b|\\033|\\u001b",
    re.IGNORECASE,
)


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def visible(text: str) -> str:
    """``text`` with every control character but tab and newline written as an escape (``\\x1b``)."""
    return CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def control_token_ids(tokenizer: Tokenizer) -> np.ndarray:
    """Ids of the tokens whose bytes hold a control byte (C0 but tab/newline, DEL), or that begin
    a C1 control in UTF-8 (``0xc2`` followed by ``0x80..0x9f``), sorted, int64."""
    import numpy as np

    bad = [i for i in range(tokenizer.vocab_size) if _CONTROL_BYTES.search(tokenizer.decode_bytes([i]))]
    return np.array(bad, dtype=np.int64)


def request_wants_control(request: str) -> bool:
    """Whether the request asks for escape sequences, colours, control characters and the like."""
    return _ASKS.search(request) is not None
