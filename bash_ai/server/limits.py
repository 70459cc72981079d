"""Server limits and the bounded generation pool (no FastAPI import: the CLI validates limits early).

Model work is CPU-bound, so it runs in a small thread pool (one worker per core) and the event
loop only shuttles bytes. At most ``workers`` jobs run and ``queue`` more wait; a request beyond
that is turned away at once (429 with Retry-After) instead of piling up and timing out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from bash_ai.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class ServerLimits:
    """Every bound the server enforces, in one place (documented in the README's API section)."""

    max_body_bytes: int = 64 * 1024
    max_prompt_chars: int = 2000
    max_prompt_tokens: int = 512  # also capped at the model's context length minus one
    max_tokens_cap: int = 320  # larger ``max_tokens`` values are clamped to this (the CLI's script budget)
    max_n: int = 8
    workers: int = max(1, os.cpu_count() or 1)
    queue: int = 16
    timeout_s: float = 60.0
    retry_after_s: int = 1
    # A client has this long to send its request line and headers, then its body (slow clients
    # would otherwise hold connections open: ~512 of them would stall the server).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        positive = ("max_body_bytes", "max_prompt_chars", "max_prompt_tokens", "max_tokens_cap", "max_n", "workers")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"server limit {name} must be a positive integer (got {value!r})")
        if not isinstance(self.queue, int) or self.queue < 0:
            raise UsageError(f"server limit queue must be 0 or more (got {self.queue!r})")
        for name in ("timeout_s", "header_timeout_s", "body_timeout_s"):
            if not getattr(self, name) > 0:
                label = name.removesuffix("_s").replace("_", " ")
                raise UsageError(f"server limit {label} must be positive seconds (got {getattr(self, name)!r})")


class Overloaded(Exception):
    """Every worker is busy and the waiting line is full."""


class Slot:
    """One admitted job's place in the pool, given back exactly once."""

    def __init__(self, give_back: Callable[[], None]) -> None:
        self._give_back = give_back
        self._lock = threading.Lock()
        self._released = False

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._give_back()


class GenerationPool:
    """A thread pool that admits at most ``workers + queue`` jobs in flight (running or waiting).

    A job counts until its thread really finishes (or, for a stream, until it has pushed its last
    event), even if the request that asked for it timed out, so the pool's bound holds for CPU
    time, not just for open requests.
    """

    def __init__(self, workers: int, queue: int) -> None:
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bash-ai-gen")
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def submit(self, fn: Callable[..., T], *args: Any, pass_slot: bool = False) -> Future[T]:
        """Start ``fn(*args)`` on a worker, or raise ``Overloaded`` when the pool is full.

        With ``pass_slot``, ``fn`` gets the job's ``Slot`` first, to release it before it returns
        (a stream does, right before its last event, so a client that saw the end and asks again
        at once is never turned away by a job that is only returning).
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Overloaded()
            self._in_flight += 1
        slot = Slot(self._give_back)
        try:
            future = self._executor.submit(fn, *((slot, *args) if pass_slot else args))
        except BaseException:
            slot.release()
            raise
        future.add_done_callback(lambda _future: slot.release())
        return future

    def _give_back(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
