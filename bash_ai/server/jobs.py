"""Running model work off the event loop, with admission control and a deadline per request.

``run`` is for answers returned whole; ``open_stream`` is for server-sent events: it waits (within
the same deadline) until the worker has produced the first event, so "busy" and "timed out while
waiting for a worker" still get a proper 429/504 status instead of a broken 200 stream.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from bash_ai.server.backend import End, StreamItem, pump
from bash_ai.server.http_errors import ApiError
from bash_ai.server.limits import GenerationPool, Overloaded, ServerLimits

T = TypeVar("T")


def busy(limits: ServerLimits) -> ApiError:
    return ApiError(
        429,
        f"the server is busy ({limits.workers} generations running and {limits.queue} waiting); retry shortly",
        "server_busy",
        headers={"Retry-After": str(limits.retry_after_s)},
    )


def timed_out(limits: ServerLimits) -> ApiError:
    return ApiError(504, f"generation did not finish within {limits.timeout_s:g} s", "timeout")


def _submit(pool: GenerationPool, limits: ServerLimits, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    try:
        return pool.submit(fn, *args, **kwargs)
    except Overloaded:
        raise busy(limits) from None


@contextmanager
def _stop_on_timeout_or_disconnect(cancel: threading.Event, limits: ServerLimits) -> Iterator[None]:
    """Around the wait for a worker: past the deadline, 504; either way (or if the client went
    away) ``cancel`` tells the worker to stop at its next token."""
    try:
        yield
    except TimeoutError:
        cancel.set()
        raise timed_out(limits) from None
    except asyncio.CancelledError:
        cancel.set()
        raise


async def run(pool: GenerationPool, limits: ServerLimits, fn: Callable[[threading.Event], T]) -> T:
    """``fn(cancel)`` on a worker; 429 when the pool is full, 504 (and ``cancel`` set) past the deadline."""
    cancel = threading.Event()
    future = _submit(pool, limits, fn, cancel)
    with _stop_on_timeout_or_disconnect(cancel, limits):
        # On timeout this also cancels the pool future, which drops the job if it is still queued.
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=limits.timeout_s)


class EventStream(Generic[T]):
    """Events from a worker, read on the event loop; ``close`` stops the worker at its next token."""

    def __init__(
        self, queue: asyncio.Queue[StreamItem[T]], cancel: threading.Event, deadline: float, first: StreamItem[T]
    ) -> None:
        self._queue = queue
        self.cancel = cancel
        self._deadline = deadline
        self._first = first

    async def __aiter__(self) -> AsyncIterator[T | BaseException]:
        """Yields events, then ends; yields an ``ApiError``/exception item on timeout or failure."""
        item: StreamItem[T] = self._first
        while not isinstance(item, End):
            yield item
            if isinstance(item, BaseException):
                return
            try:
                item = await _next(self._queue, self._deadline)
            except TimeoutError:
                self.cancel.set()
                yield TimeoutError()
                return

    def close(self) -> None:
        self.cancel.set()


async def _next(queue: asyncio.Queue[StreamItem[T]], deadline: float) -> StreamItem[T]:
    remaining = deadline - asyncio.get_running_loop().time()
    if remaining <= 0:
        raise TimeoutError()
    return await asyncio.wait_for(queue.get(), timeout=remaining)


async def open_stream(
    pool: GenerationPool, limits: ServerLimits, events: Callable[[threading.Event], Iterator[T]]
) -> EventStream[T]:
    """Start ``events(cancel)`` on a worker and return once its first event arrived (429/504 before that)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StreamItem[T]] = asyncio.Queue()
    cancel = threading.Event()

    def sink(item: StreamItem[T]) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the server is shutting down
            cancel.set()

    _submit(pool, limits, pump, lambda: events(cancel), sink, cancel, pass_slot=True)
    deadline = loop.time() + limits.timeout_s
    with _stop_on_timeout_or_disconnect(cancel, limits):
        first = await _next(queue, deadline)
    if isinstance(first, BaseException):
        raise first
    return EventStream(queue, cancel, deadline, first)
