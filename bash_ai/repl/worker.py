"""One background thread for all model work, so the prompt never waits on the model.

The engine is used from this thread only (no concurrent forward passes fighting for the CPU).
Each job gets a ``threading.Event`` the engine's ``stream`` watches; submitting a job with a key
cancels older jobs with the same key (a newer keystroke makes an older suggestion worthless).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class Job:
    def __init__(self, fn: Callable[[threading.Event], Any], key: str | None) -> None:
        self.fn = fn
        self.key = key
        self.cancel = threading.Event()
        self.future: Future[Any] = Future()

    def result(self, poll: float = 0.05) -> Any:
        """Wait in short slices so Ctrl-C (KeyboardInterrupt) reaches the main thread promptly."""
        while True:
            try:
                return self.future.result(timeout=poll)
            except TimeoutError:
                continue


class ModelWorker:
    def __init__(self) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._live: list[Job] = []  # queued or running
        self._thread = threading.Thread(target=self._loop, name="bash-ai-model", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[threading.Event], Any], key: str | None = None) -> Job:
        job = Job(fn, key)
        with self._lock:
            if key is not None:
                for old in self._live:
                    if old.key == key:
                        old.cancel.set()
            self._live.append(job)
        self._queue.put(job)
        return job

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._live:
                job.cancel.set()

    def close(self, timeout: float = 2.0) -> None:
        self.cancel_all()
        self._queue.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                # False when the waiting side gave up first (asyncio cancels the wrapped future).
                if not job.future.set_running_or_notify_cancel():
                    continue
                if job.cancel.is_set():  # superseded before it started: an empty answer
                    job.future.set_result(None)
                    continue
                try:
                    job.future.set_result(job.fn(job.cancel))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                    job.future.set_exception(exc)
            finally:
                with self._lock:
                    self._live.remove(job)
