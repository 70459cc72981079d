"""The interface the generation engine needs from a runtime (numpy, torch or mlx)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from bash_ai.config import ModelConfig


class LogitsModel(Protocol):
    """A causal LM with a KV cache.

    ``new_cache(batch)`` returns an opaque cache for ``batch`` sequences, empty.
    ``forward(ids, cache)`` takes ``ids`` of shape (B, T) (int), appends T positions to the cache
    and returns float32 logits of shape (B, T, vocab_size) as numpy, or (B, 1, vocab_size) with
    ``last_only`` (the last position's only: what decoding needs). ``cache.length`` is the number
    of positions already in it. Positions beyond ``config.context_length`` are the caller's job
    (the engine trims the prompt).
    """

    config: ModelConfig

    def new_cache(self, batch: int) -> Any: ...

    def forward(self, ids: np.ndarray, cache: Any, last_only: bool = False) -> np.ndarray: ...
