"""Continuous batching: the decode steps of concurrent requests run as one forward pass.

Each request (``Engine.stream`` on any thread) is prefilled on a thread of its own (beside the
decode steps, not between them), then its candidates join
one shared key/value slab as rows; every step the worker thread samples a token for each live row
(with that request's own parameters, random streams and stop rules, exactly as ``Engine._run``
does) and runs one ``step_rows`` forward for all of them, each row at its own position. Requests
join between steps and leave as their candidates finish; a finished row's slot is refilled by the
last row, so the live rows stay contiguous. Answers equal unbatched ones for the same seed (the
float sums differ in their last bits only, which can only flip a draw lying on a boundary).

Needs a runtime with ``step_rows`` and a ``KVCache`` (the numpy runtime); otherwise the engine
decodes each request by itself as before.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bash_ai.engine.events import Event
from bash_ai.engine.sampling import SamplingParams

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine, _Candidates
    from bash_ai.model.numpy_gpt import KVCache

_END = object()
DEFAULT_ROWS = 32
PROMPT_CACHE = 16  # prefilled prompts kept: a resampling round of the same request skips its prefill


@dataclass(eq=False)
class _Job:
    """One request's state in the batch."""

    ids: list[int]
    params: SamplingParams
    n: int
    cancel: threading.Event | None
    banned: np.ndarray | None
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    abandoned: bool = False  # the consumer closed the stream
    state: _Candidates | None = None  # random streams, stop rules, repetition-penalty memory
    slots: dict[int, int] = field(default_factory=dict)  # live candidate index -> slab row
    logits: np.ndarray | None = None  # (live, V): the next token's logits, in candidate order
    prefill_s: float = 0.0
    decode_s: float = 0.0
    prefilled: tuple[np.ndarray, KVCache] | None = None  # (logits (n, V), the prompt's one-row cache)

    @property
    def stopped(self) -> bool:
        return self.abandoned or (self.cancel is not None and self.cancel.is_set())


class Batcher:
    """Owns the worker thread and the slab; ``decode`` is called from any number of threads."""

    def __init__(self, engine: Engine, max_rows: int = DEFAULT_ROWS) -> None:
        if not callable(getattr(engine.model, "step_rows", None)):
            raise ValueError("continuous batching needs a runtime with step_rows (the numpy runtime)")
        self.engine = engine
        self.max_rows = max_rows
        self.slab = engine.model.new_cache(max_rows)
        self.pos = np.zeros(max_rows, dtype=np.intp)  # each row's next write position
        self.owner: list[tuple[_Job, int] | None] = [None] * max_rows
        self.rows = 0  # live rows: 0 .. rows-1
        self.jobs: list[_Job] = []
        self.pending: deque[_Job] = deque()  # waiting for the prefill thread
        self.ready: deque[_Job] = deque()  # prefilled, waiting for room in the slab
        self.cond = threading.Condition()
        self.prompts: OrderedDict[tuple[int, ...], tuple[np.ndarray, KVCache]] = OrderedDict()  # LRU, 1 row each
        self.prefills = 0  # prompts actually run (for tests and benchmarks)
        self.steps = 0  # forward passes run (for tests and benchmarks)
        self.peak_rows = 0
        self._threads: list[threading.Thread] = []

    # -- the caller's side ----------------------------------------------------------------------

    def decode(
        self,
        ids: list[int],
        params: SamplingParams,
        n: int,
        cancel: threading.Event | None,
        banned: np.ndarray | None,
    ) -> Iterator[Event]:
        """The events of one request after ``Started``: tokens, ``Finished`` per candidate, ``Stats``."""
        if n > self.max_rows:
            raise ValueError(f"{n} candidates do not fit a batch of {self.max_rows} rows")
        job = _Job(list(ids), params, n, cancel, banned)
        with self.cond:
            self.pending.append(job)
            if not self._threads:
                for target, name in ((self._loop, "bash-ai-decode"), (self._prefill_loop, "bash-ai-prefill")):
                    thread = threading.Thread(target=target, name=name, daemon=True)
                    thread.start()
                    self._threads.append(thread)
            self.cond.notify_all()
        try:
            while True:
                try:
                    item = job.out.get(timeout=0.05)
                except queue.Empty:
                    if job.stopped:
                        return
                    continue
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            job.abandoned = True  # closed early: the worker drops its rows at the next step

    # -- the worker -----------------------------------------------------------------------------

    def _loop(self) -> None:
        """The decode thread: admit prefilled jobs between steps, then one step for every row."""
        while True:
            with self.cond:
                while not self.ready and not self.jobs:
                    self.cond.wait()
                admitted: list[_Job] = []
                while self.ready and self.rows + sum(j.n for j in admitted) + self.ready[0].n <= self.max_rows:
                    admitted.append(self.ready.popleft())
            for job in admitted:
                self._guard(job, self._admit)
            try:
                self._step()
            except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
                for job in self.jobs:
                    job.out.put(exc)
                self.jobs, self.rows = [], 0
                self.owner = [None] * self.max_rows

    def _prefill_loop(self) -> None:
        """The prefill thread: prompts run here, beside the decode steps rather than between them
        (a prompt costs many steps' work; on the decode thread it stalled every other request)."""
        while True:
            with self.cond:
                while not self.pending:
                    self.cond.wait()
                job = self.pending.popleft()
            if job.stopped:
                job.out.put(_END)
                continue
            try:
                t0 = time.perf_counter()
                job.prefilled = self._prefilled(job)  # (n, V) logits, a cache of one row
                job.prefill_s = time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001 - this request fails, the others go on
                job.out.put(exc)
                continue
            with self.cond:
                self.ready.append(job)
                self.cond.notify_all()

    def _prefilled(self, job: _Job) -> tuple[np.ndarray, KVCache]:
        """The prompt's logits fanned out to the job's rows, and its one-row cache (``_admit`` copies
        it into each row); a prompt seen lately (the same request's next resampling round) is taken
        from the LRU instead of run again."""
        key = tuple(job.ids)
        found = self.prompts.get(key)
        if found is None:
            found = self.engine._prefill(job.ids, 1)  # (1, V), one row
            self.prefills += 1
            self.prompts[key] = found
            while len(self.prompts) > PROMPT_CACHE:
                self.prompts.popitem(last=False)
        else:
            self.prompts.move_to_end(key)
        logits, cache = found
        return np.repeat(logits, job.n, axis=0), cache

    def _guard(self, job: _Job, action: Callable[[_Job], None]) -> None:
        try:
            action(job)
        except BaseException as exc:  # noqa: BLE001 - this request fails, the batch goes on
            job.out.put(exc)

    def _admit(self, job: _Job) -> None:
        """Copy the job's prefilled prompt into its rows of the slab."""
        from bash_ai.engine.engine import _Candidates

        if job.stopped:
            job.out.put(_END)
            return
        engine = self.engine
        assert job.prefilled is not None
        logits, cache = job.prefilled
        job.prefilled = None
        length = int(cache.length)
        first = self.rows
        for layer in range(len(self.slab.k)):
            self.slab.k[layer][first : first + job.n, :, :length] = cache.k[layer][:, :, :length]
            self.slab.v[layer][first : first + job.n, :, :length] = cache.v[layer][:, :, :length]
        for i in range(job.n):
            self.owner[first + i] = (job, i)
            self.pos[first + i] = length
            job.slots[i] = first + i
        self.rows += job.n
        self.peak_rows = max(self.peak_rows, self.rows)
        job.state = _Candidates(engine, job.ids, job.params, job.n, logits.shape[-1])
        job.logits = logits
        self.jobs.append(job)

    def _step(self) -> None:
        """Sample every live row, retire what finished, then one forward pass for the rest."""
        feed = np.full(self.rows, self.engine.eot_id, dtype=np.int64)
        for job in list(self.jobs):
            if job.stopped:
                self._retire(job, list(job.slots))
                job.out.put(_END)
                self.jobs.remove(job)
                continue
            t1 = time.perf_counter()
            live = sorted(job.slots)  # candidate indices, in order (job.logits rows)
            logits, state = job.logits, job.state
            assert logits is not None and state is not None
            tokens = state.sample(logits, live, job.banned)  # (live,)
            job.decode_s += time.perf_counter() - t1
            done = []
            for k, i in enumerate(live):
                row = job.slots[i]
                at_limit = int(self.pos[row]) >= self.engine.context_length
                for event in state.cands[i].step(int(tokens[k]), at_limit):
                    job.out.put(event)
                if state.cands[i].active:
                    feed[row] = tokens[k]
                else:
                    done.append(i)
            state.remember(live, tokens)
            self._retire(job, done)
            if not job.slots:
                job.out.put(state.stats(len(job.ids), job.prefill_s, job.decode_s))
                job.out.put(_END)
                self.jobs.remove(job)
        feed = self._compact(feed)
        if self.rows == 0:
            return
        t1 = time.perf_counter()
        view = type(self.slab)([k[: self.rows] for k in self.slab.k], [v[: self.rows] for v in self.slab.v])
        step_rows = self.engine.model.step_rows  # type: ignore[attr-defined]  # checked in __init__
        logits = step_rows(feed, view, self.pos[: self.rows])  # (rows, V)
        self.pos[: self.rows] += 1
        self.steps += 1
        spent = time.perf_counter() - t1
        for job in self.jobs:
            live = sorted(job.slots)
            job.logits = logits[[job.slots[i] for i in live]]
            job.decode_s += spent * len(live) / self.rows

    def _retire(self, job: _Job, candidates: list[int]) -> None:
        for i in candidates:
            row = job.slots.pop(i)
            self.owner[row] = None

    def _compact(self, feed: np.ndarray) -> np.ndarray:
        """Move the last live rows into the holes so rows 0..rows-1 are the live ones."""
        end = self.rows
        hole = 0
        while True:
            while hole < end and self.owner[hole] is not None:
                hole += 1
            while end > hole and self.owner[end - 1] is None:
                end -= 1
            if hole >= end:
                break
            last = end - 1
            span = int(self.pos[last])
            for layer in range(len(self.slab.k)):
                self.slab.k[layer][hole, :, :span] = self.slab.k[layer][last, :, :span]
                self.slab.v[layer][hole, :, :span] = self.slab.v[layer][last, :, :span]
            owner = self.owner[last]
            assert owner is not None
            self.owner[hole], self.owner[last] = owner, None
            owner[0].slots[owner[1]] = hole
            self.pos[hole] = self.pos[last]
            feed[hole] = feed[last]
            end = last
        self.rows = end
        return feed[:end]


def start_batching(engine: Engine, max_rows: int = 32) -> bool:
    """Decode the engine's concurrent streams together (continuous batching); False when its
    runtime cannot (only the numpy runtime steps rows at their own positions)."""
    if not callable(getattr(engine.model, "step_rows", None)):
        return False
    engine.batcher = Batcher(engine, max_rows)
    return True
