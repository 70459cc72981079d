"""Turning token bytes into safe-to-show text pieces, one candidate at a time.

Byte-level BPE can split one character over several tokens, and a stop string can arrive over
several tokens too. ``TextStream`` holds back incomplete UTF-8 sequences (an incremental decoder)
and any tail that could still become a stop string, so every piece it releases is final.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class TextStream:
    """Feed token bytes; get back text that can be shown now; learn when a stop string appears."""

    def __init__(self, stop: Sequence[str] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stop = tuple(stop)
        self._text = ""  # everything decoded so far
        self._emitted = 0  # how much of _text has been released
        self.stopped = False

    @property
    def text(self) -> str:
        """The answer so far: everything decoded, cut before the stop string once one appeared."""
        return self._text

    def feed(self, data: bytes) -> str:
        """Add one token's bytes; return the newly releasable text (maybe empty)."""
        if self.stopped:
            return ""
        self._text += self._decoder.decode(data)
        return self._release()

    def flush(self) -> str:
        """The candidate ended: release everything held back (dangling bytes become U+FFFD)."""
        if self.stopped:
            return ""
        self._text += self._decoder.decode(b"", final=True)
        cut = self._find_stop()
        if cut is not None:
            self._text = self._text[:cut]
            self.stopped = True
        piece = self._text[self._emitted :]
        self._emitted = len(self._text)
        return piece

    def _find_stop(self) -> int | None:
        """Where the answer ends: the stop string that completed first (the longer on a tie), as
        if text arrived one character at a time, so token boundaries never change the answer."""
        # A stop string cannot start inside released text: its start would have been held back.
        hits = [(i + len(s), i) for s in self._stop if (i := self._text.find(s, self._emitted)) >= 0]
        return min(hits)[1] if hits else None

    def _release(self) -> str:
        cut = self._find_stop()
        if cut is not None:
            self._text = self._text[:cut]
            self.stopped = True
            end = cut
        else:
            end = len(self._text) - self._held_back()
        piece = self._text[self._emitted : end]
        self._emitted = end
        return piece

    def _held_back(self) -> int:
        """Length of the longest unreleased tail that is a proper prefix of some stop string."""
        pending = len(self._text) - self._emitted
        best = 0
        for s in self._stop:
            for k in range(min(len(s) - 1, pending), best, -1):
                if self._text.endswith(s[:k]):
                    best = k
                    break
        return best
