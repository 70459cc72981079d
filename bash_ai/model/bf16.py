"""bfloat16 matmuls on PyTorch for a loaded numpy model: the warm shell key's runtime.

A beam step of the bundled model multiplies 5 rows by 44 MB of float32 weights: it waits on
memory, not arithmetic. In bfloat16 the weights are 22 MB, inside the L3 cache, and PyTorch's
kernels use the CPU's bf16 units (AMX, AVX-512 BF16) where it has them: one 5-row step's matmuls
take ~3.3 ms against ~5.9 ms for numpy's float32 (``docs/benchmarks.md``, "Shell key binding";
``benchmarks/bench_shell_key.py --matmul bf16 --peer-matmul fp32`` times the key both ways).

Only the matrices change (``NumpyGPT``'s ``_linear`` calls a ``Bf16Matrix`` like an array);
activations, attention, norms and the KV cache stay float32 numpy. bf16 keeps 8 significant bits,
so an answer can differ from the float32 one where two candidates nearly tie (4 of 210 first
answers on nl2bash-dev requests): a long-lived process that wants speed opts in (``bash-ai
shell-helper --matmul``); the CLI stays float32, and ``import torch`` (~1.3 s) never slows a cold
start.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from bash_ai.errors import UsageError

if TYPE_CHECKING:
    from bash_ai.model.numpy_gpt import Matrix, NumpyGPT

MATMULS = ("auto", "fp32", "bf16")
_TIMED_ROWS = 5  # a beam step's rows: the case the warm key waits on


class Bf16Matrix:
    """A weight (out, in) kept as a bfloat16 tensor; ``m(x)`` is ``x @ weight.T`` in float32."""

    def __init__(self, weight: np.ndarray) -> None:
        import torch

        self.shape: tuple[int, ...] = weight.shape
        self._torch, self._bf16, self._linear = torch, torch.bfloat16, torch.nn.functional.linear
        with warnings.catch_warnings():
            # A memory-mapped (read-only) weight: PyTorch warns that the tensor sharing it must not
            # be written, and it never is: ``.to`` copies it into the bfloat16 tensor kept.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            self.weight = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)).to(torch.bfloat16)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # No autograd context needed (nothing requires grad), and entering one per call costs more
        # than the small matmuls of a beam step.
        rows = self._torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self._bf16)
        return self._linear(rows, self.weight).float().numpy()


def _torch() -> Any | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def check_matmul(matmul: str) -> str:
    """``matmul`` if it names one of ``MATMULS``, else a ``UsageError`` (before a model loads)."""
    if matmul not in MATMULS:
        raise UsageError(f"unknown --matmul {matmul!r}; choose one of {', '.join(MATMULS)}")
    return matmul


def use_matmul(model: object, matmul: str) -> str:
    """Give ``model`` the matmuls ``matmul`` names and return the ones it now has ("fp32"/"bf16").

    ``auto``: bf16 when PyTorch is installed and a beam step's matmul measures faster that way on
    this CPU, else fp32. ``bf16`` without PyTorch, or for a model that is not the numpy runtime's,
    is a ``UsageError``.
    """
    from bash_ai.model.numpy_gpt import NumpyGPT

    if check_matmul(matmul) == "fp32":
        return "fp32"
    if not isinstance(model, NumpyGPT):
        if matmul == "bf16":
            raise UsageError(f"bf16 matmuls are for the numpy runtime, not {type(model).__name__}")
        return "fp32"
    torch = _torch()
    if torch is None:
        if matmul == "bf16":
            raise UsageError("bf16 matmuls need PyTorch: pip install 'bash-ai[train]', or use --matmul fp32")
        return "fp32"
    torch.set_num_threads(1)  # the beams and the pooled commands' scoring each drive one core
    if matmul == "auto" and not _bf16_faster(model):
        return "fp32"
    for layer in model.layers:
        for name in ("w_qkv", "w_o", "w_fc", "w_proj"):
            setattr(layer, name, _bf16(getattr(layer, name)))
    model.w_head = _bf16(model.w_head)
    return "bf16"


def _bf16(weight: np.ndarray | Matrix) -> Bf16Matrix:
    if isinstance(weight, np.ndarray):
        return Bf16Matrix(weight)
    if isinstance(weight, Bf16Matrix):
        return weight
    raise TypeError(f"cannot make a bf16 matrix of {type(weight).__name__}")


def _bf16_faster(model: NumpyGPT, repeats: int = 15) -> bool:
    """Whether the first MLP matrix times a beam step's rows is faster in bf16 (best of
    ``repeats`` each; ~20 ms)."""
    from bash_ai.model.numpy_gpt import _linear

    weight = model.layers[0].w_fc if model.layers else model.w_head
    if not isinstance(weight, np.ndarray):
        return True  # converted already
    x = np.random.default_rng(0).standard_normal((_TIMED_ROWS, weight.shape[1])).astype(np.float32)
    fast = Bf16Matrix(weight)

    def best(run: Any) -> float:
        run()  # warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    return best(lambda: fast(x)) < best(lambda: _linear(x, weight))
