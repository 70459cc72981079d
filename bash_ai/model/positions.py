"""Position tables, one definition for the three twins of the model (numpy, torch, mlx).

numpy only: the torch and mlx models turn the tables into their own arrays at construction.
"""

from __future__ import annotations

import numpy as np


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """pe[p, 2i] = sin(p / 10000^(2i/C)), pe[p, 2i+1] = cos(same); float64 maths, float32 out."""
    pos = np.arange(length, dtype=np.float64)[:, None]  # (T, 1)
    even = np.arange(0, dim, 2, dtype=np.float64)  # (ceil(C/2),) = 2i
    angle = pos / np.power(10000.0, even / dim)  # (T, ceil(C/2))
    table = np.empty((length, dim), dtype=np.float64)
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : dim // 2])
    return table.astype(np.float32)


def rope_tables(length: int, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin for rotate-half RoPE, each (length, head_dim): frequencies repeat per half."""
    inv_freq = 1.0 / np.power(theta, np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)  # (D/2,)
    angle = np.arange(length, dtype=np.float64)[:, None] * inv_freq[None, :]  # (T, D/2)
    angle = np.concatenate([angle, angle], axis=1)  # (T, D)
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
