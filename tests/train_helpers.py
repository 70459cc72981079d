"""Small pieces the training tests share: a deterministic BatchSource over a learnable stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class PatternSource:
    """Windows of a fixed periodic token stream: a model can learn it, so loss must fall."""

    def __init__(self, vocab: int, rows: int, block: int, seed: int = 0, period: int = 7) -> None:
        self.stream = (np.arange(10_000) * 3 % period + (np.arange(10_000) // 97) % 3) % vocab
        self.rows, self.block, self.seed, self.pos = rows, block, seed, 0

    def _batch(self, index: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts = np.random.default_rng([seed, index]).integers(0, len(self.stream) - self.block - 1, self.rows)
        x = np.stack([self.stream[s : s + self.block] for s in starts]).astype(np.int64)
        y = np.stack([self.stream[s + 1 : s + self.block + 1] for s in starts]).astype(np.int64)
        return x, y, np.ones_like(x, dtype=bool)

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.pos += 1
        return self._batch(self.pos, self.seed)

    def fixed_batches(self, n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [self._batch(i, self.seed + 10_000) for i in range(n)]

    def state_dict(self) -> dict[str, Any]:
        return {"pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos = int(state["pos"])


class ByteTokenizerFile:
    """Stands in for a tokenizer where only ``save`` is needed (the loop stores it with the model)."""

    def save(self, path: Path) -> None:
        Path(path).write_text('{"stub": true}\n', encoding="utf-8")
