"""Random-window batches over the tokenized cache, with an exact, JSON-able position.

Batch ``k`` is drawn from ``numpy.random.default_rng([seed, k])``, so the position is just ``k``:
resuming at step ``k`` replays exactly the batches an uninterrupted run would have seen, with no
generator state to pickle. Each row first picks its language (English with probability
``language_ratio``), then a uniformly random window of that language's stream; with ``aligned``,
the window starts where a training sequence starts (so a prompt is never cut at its head, which
matters once prompts carry retrieved examples), and runs on into the following sequences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bash_ai.errors import DataError, UsageError
from trainer.data.tokenized import Stream, TokenizedData

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # x (B, T) int64, y (B, T) int64, mask (B, T) bool

_FIXED_STREAM = 1 << 40  # seeds of fixed (validation) batches live far from training steps


class Batches:
    """Implements ``trainer.batches.BatchSource``; also an endless iterator of batches."""

    def __init__(
        self,
        data: TokenizedData,
        split: str,
        batch_size: int,
        block_size: int,
        seed: int,
        language_ratio: float | None = None,
        aligned: bool = False,
    ) -> None:
        if batch_size < 1 or block_size < 1:
            raise UsageError("batch_size and block_size must be positive")
        if language_ratio is not None and not 0.0 <= language_ratio <= 1.0:
            raise UsageError(f"language_ratio must be between 0 and 1, not {language_ratio}")
        self.split = split
        self.batch_size = batch_size
        self.block_size = block_size
        self.seed = int(seed)
        self.step = 0
        streams = data.split(split)
        self._en, self._bash = streams["en"], streams["bash"]
        self.p_english = self._resolve_ratio(language_ratio)
        self.aligned = aligned
        # Per stream, how many sequence starts leave room for a whole window.
        self._n_starts = {id(st): self._usable_starts(st) for st in (self._en, self._bash)}

    def _usable_starts(self, stream: Stream) -> int:
        if not self.aligned or stream.starts is None or len(stream) < self.block_size + 1:
            return 0
        return int(np.searchsorted(stream.starts, len(stream) - self.block_size - 1, side="right"))

    def _resolve_ratio(self, ratio: float | None) -> float:
        """English probability per row; needs a window's worth of tokens in every language it draws."""
        need = self.block_size + 1
        has_en, has_bash = len(self._en) >= need, len(self._bash) >= need
        if ratio is None:
            total = len(self._en) * has_en + len(self._bash) * has_bash
            if total == 0:
                raise DataError(
                    f"the {self.split} data has fewer than {need} tokens; use more data or a shorter context"
                )
            return len(self._en) * has_en / total
        if self.split != "train" and has_en != has_bash and 0 < ratio < 1:
            # Validation follows the ratio when it can; a tiny val split may lack one language.
            return float(has_en)
        if ratio > 0 and not has_en:
            raise DataError(
                f"language_ratio {ratio} needs English text, but the {self.split} data has "
                f"{len(self._en)} English tokens (need at least {need}); add tinystories or local"
            )
        if ratio < 1 and not has_bash:
            raise DataError(
                f"language_ratio {ratio} needs bash, but the {self.split} data has "
                f"{len(self._bash)} bash tokens (need at least {need}); add nl2bash, tldr or local"
            )
        return float(ratio)

    def _draw(self, rng: np.random.Generator) -> Batch:
        B, T = self.batch_size, self.block_size
        english = rng.random(B) < self.p_english  # (B,)
        x = np.empty((B, T), dtype=np.int64)
        y = np.empty((B, T), dtype=np.int64)
        mask = np.empty((B, T), dtype=bool)
        for row in range(B):
            stream: Stream = self._en if english[row] else self._bash
            usable = self._n_starts[id(stream)]
            if usable:
                start = int(stream.starts[int(rng.integers(0, usable))])  # type: ignore[index]
            else:
                start = int(rng.integers(0, len(stream) - T))  # window [start, start + T] inclusive
            window = np.asarray(stream.tokens[start : start + T + 1], dtype=np.int64)  # (T+1,)
            x[row], y[row] = window[:-1], window[1:]
            mask[row] = stream.mask[start + 1 : start + T + 1] != 0  # targets are y's tokens
        return x, y, mask

    def next_batch(self) -> Batch:
        batch = self._draw(np.random.default_rng([self.seed, self.step]))
        self.step += 1
        return batch

    def fixed_batches(self, n: int) -> list[Batch]:
        """``n`` batches that are the same on every call and never among ``next_batch``'s."""
        return [self._draw(np.random.default_rng([self.seed, _FIXED_STREAM + i])) for i in range(n)]

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Batch:
        return self.next_batch()

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "seed": self.seed,
            "split": self.split,
            "batch_size": self.batch_size,
            "block_size": self.block_size,
            "p_english": self.p_english,
            "aligned": self.aligned,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue at a saved position; the sampling setup must match the one that saved it."""
        for name in ("seed", "split", "batch_size", "block_size", "aligned"):
            if name in state and state[name] != getattr(self, name):
                raise DataError(
                    f"cannot resume the data position: it was saved with {name}={state[name]!r}, "
                    f"this run has {getattr(self, name)!r}"
                )
        step = state.get("step")
        if not isinstance(step, int) or step < 0:
            raise DataError(f"bad saved data position {step!r}")
        self.step = step
