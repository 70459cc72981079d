"""What a training loop needs from the data layer: batches, a fixed validation set, a position."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # x (B, T) int64, y (B, T) int64, mask (B, T) bool


class BatchSource(Protocol):
    def next_batch(self) -> Batch:
        """The next global batch (all ranks' rows); advances the position."""
        ...

    def fixed_batches(self, n: int) -> list[Batch]:
        """``n`` batches that are the same on every call (validation)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """JSON-able position, enough to continue exactly."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
