"""The generation runtime every face (CLI, REPL, HTTP server) renders: params in, events out."""

from __future__ import annotations

from bash_ai.engine.engine import MAX_CANDIDATES, Engine, Task
from bash_ai.engine.events import Event, Finished, FinishReason, Started, Stats, TokenEvent
from bash_ai.engine.sampling import SamplingParams, distribution, sample
from bash_ai.engine.stream import TextStream

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
