"""The generation runtime every face (CLI, REPL, HTTP server) renders: params in, events out.

The events (``bash_ai.engine.events``) import nothing heavy, so a face can name them without
loading numpy; the rest loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bash_ai.engine.events import Event, Finished, FinishReason, Started, Stats, TokenEvent

if TYPE_CHECKING:
    from bash_ai.engine.engine import MAX_CANDIDATES, Engine, Task
    from bash_ai.engine.sampling import SamplingParams, distribution, sample
    from bash_ai.engine.stream import TextStream

_LAZY = {
    "MAX_CANDIDATES": "bash_ai.engine.engine",
    "Engine": "bash_ai.engine.engine",
    "Task": "bash_ai.engine.engine",
    "SamplingParams": "bash_ai.engine.sampling",
    "distribution": "bash_ai.engine.sampling",
    "sample": "bash_ai.engine.sampling",
    "TextStream": "bash_ai.engine.stream",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_CANDIDATES",
    "Engine",
    "Event",
    "Finished",
    "FinishReason",
    "SamplingParams",
    "Started",
    "Stats",
    "Task",
    "TextStream",
    "TokenEvent",
    "distribution",
    "sample",
]
