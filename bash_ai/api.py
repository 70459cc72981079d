"""The library's front door: load a model and answer with the shared defaults.

Every face (the CLI, the REPL, the shell helper, the server, ``bash-ai eval``, the benchmarks)
loads its model and builds its decoding settings here, so they answer alike::

    from bash_ai import api

    engine = api.load_engine(None)  # the configured default model, else the bundled one
    best = answer(engine, "list files sorted by size", 1, decode=api.decode_config(96))
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from bash_ai.errors import BashAIError, ModelError

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.engine.sampling import SamplingParams


def import_numpy_single_threaded() -> None:
    """Load numpy with a one-thread BLAS unless the user chose a thread count.

    Batch-1 decoding is a chain of small matrix-vector products: BLAS threads only add
    synchronisation, and on a busy machine they spin (measured 4x slower on 2 shared cores). A
    prefill that borrows a second thread (``bash_ai.model.blas.threads``) must not leave it
    spinning beside the decode that follows, so idle OpenBLAS threads sleep at once (a timeout of
    2^4 cycles instead of ~2^28). The variables are read when OpenBLAS loads, then restored, so
    commands we run inherit the user's env.
    """
    if "numpy" in sys.modules or "OPENBLAS_NUM_THREADS" in os.environ:
        return
    ours = {"OPENBLAS_NUM_THREADS": "1", "OPENBLAS_THREAD_TIMEOUT": "4"}
    ours = {k: v for k, v in ours.items() if k not in os.environ}
    os.environ.update(ours)
    try:
        import numpy  # noqa: F401
    finally:
        for key in ours:
            del os.environ[key]


def load_engine(model: str | None, alone: bool = False) -> Engine:
    """The engine for a model name or path (``None``: the configured default, else the bundled one).

    ``alone``: this process answers one request at a time (``bash-ai ask``, the shell helper), so a
    prompt's prefill may use every core (``Engine.prefill_threads``). Anything unexpected while
    loading is a corrupt model: one line and exit 3, never a traceback.
    """
    import_numpy_single_threaded()
    from bash_ai import registry

    try:
        engine = registry.load(model)
        if alone:
            engine.prefill_threads = os.cpu_count() or 1
        return engine
    except BashAIError:
        raise
    except Exception as exc:  # noqa: BLE001 - the edge: third-party loaders raise anything
        raise ModelError(f"cannot load model {model or 'default'}: {type(exc).__name__}: {exc}") from None


def model_label(engine: Engine) -> dict[str, str | None]:
    """The model's display name and directory (``registry.load`` sets ``model_dir``)."""
    path = getattr(engine, "model_dir", None)
    return {"name": str(engine.name), "path": str(path) if path is not None else None}


def sampling_params(temperature: float, seed: int | None, max_tokens: int) -> SamplingParams:
    from bash_ai.engine.sampling import SamplingParams

    return SamplingParams(temperature=temperature, seed=seed, max_tokens=max_tokens)


def decode_config(max_tokens: int) -> DecodeConfig:
    from bash_ai.engine.propose import DecodeConfig

    return DecodeConfig(max_tokens=max_tokens)
