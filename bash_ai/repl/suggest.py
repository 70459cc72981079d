"""Model completions for typed bash: ghost text (accepted with →) and a Tab menu of candidates.

Both run on the model worker thread and are cancelled as soon as the text they were computed for
changes, so typing never waits on the model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from prompt_toolkit.auto_suggest import AutoSuggest, Suggestion
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from bash_ai.repl.worker import ModelWorker

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine

SUGGEST_TOKENS = 16
MENU_SIZE = 4
META_COMMANDS = (":run", ":copy", ":explain", ":model", ":help", ":quit")


def eligible(text: str) -> bool:
    """Typed bash worth completing: not empty, not a request (#, ?) or a meta-command (:)."""
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] not in "#?:"


def continuations(
    engine: Engine, prefix: str, n: int, temperature: float, cancel: threading.Event, seed: int = 0
) -> list[str]:
    """Up to ``n`` distinct one-line continuations of ``prefix`` (empty when cancelled)."""
    from bash_ai.engine.events import Finished
    from bash_ai.engine.sampling import SamplingParams

    params = SamplingParams(temperature=temperature, max_tokens=SUGGEST_TOKENS, stop=["\n"], seed=seed)
    found: list[str] = []
    ids = engine.task_ids("complete", prefix)
    # Never terminal control bytes in ghost text or the menu (bash_ai.safety.control).
    for event in engine.stream(ids, params, n, cancel=cancel, banned=engine.control_ids):
        if isinstance(event, Finished) and not cancel.is_set():
            text = event.text.split("\n", 1)[0].rstrip()
            if text.strip() and text not in found:
                found.append(text)
    return [] if cancel.is_set() else found


class ModelAutoSuggest(AutoSuggest):
    """Greedy ghost text for the typed prefix, reused while the user types along it."""

    def __init__(self, worker: ModelWorker, engine: Callable[[], Any]) -> None:
        self.worker = worker
        self.engine = engine
        self._last: tuple[str, str] | None = None  # (prefix, suggestion)
        self._job: Any = None
        self._job_prefix = ""

    def cancel_stale(self, text: str) -> None:
        """Buffer text changed: drop the in-flight job if it was for another prefix."""
        if self._job is not None and text != self._job_prefix:
            self._job.cancel.set()

    def _cached(self, text: str) -> str | None:
        if self._last is None:
            return None
        prefix, suggestion = self._last
        if text.startswith(prefix) and (prefix + suggestion).startswith(text) and len(text) < len(prefix + suggestion):
            return (prefix + suggestion)[len(text) :]
        return None

    def compute(self, text: str, cancel: threading.Event) -> str | None:
        from bash_ai.repl.constrained import complete_line

        # Completes the word being typed (``find . -na`` -> ``me ...``), never breaks it. A
        # suggestion is a nicety: whatever goes wrong in it must not disturb the prompt.
        try:
            return complete_line(self.engine(), text, SUGGEST_TOKENS, cancel) or None
        except Exception:  # noqa: BLE001
            return None

    def get_suggestion(self, buffer: Buffer, document: Document) -> Suggestion | None:
        """Blocking form (prompt_toolkit uses the async one below)."""
        text = document.text
        if not eligible(text) or not document.is_cursor_at_the_end:
            return None
        rest = self._cached(text) or self.compute(text, threading.Event())
        return Suggestion(rest) if rest else None

    async def get_suggestion_async(self, buffer: Buffer, document: Document) -> Suggestion | None:
        text = document.text
        if not eligible(text) or not document.is_cursor_at_the_end:
            return None
        cached = self._cached(text)
        if cached:
            return Suggestion(cached)
        self._job_prefix = text
        self._job = self.worker.submit(lambda cancel: self.compute(text, cancel), key="suggest")
        try:
            rest = await asyncio.wrap_future(self._job.future)
        finally:
            self._job = None
        if rest:
            self._last = (text, rest)
            return Suggestion(rest)
        return None


class ModelCompleter(Completer):
    """Tab: a menu of sampled continuations; ``:`` lines complete meta-commands."""

    def __init__(self, worker: ModelWorker, engine: Callable[[], Any], temperature: float = 0.8) -> None:
        self.worker = worker
        self.engine = engine
        self.temperature = temperature
        self._seed = 0

    def _meta(self, text: str) -> list[Completion]:
        word = text.strip()
        return [
            Completion(c, start_position=-len(word)) for c in META_COMMANDS if c.startswith(word) and " " not in word
        ]

    def _completions(self, text: str, found: Iterable[str]) -> list[Completion]:
        tail = text.split()[-1] if text.split() and not text.endswith(" ") else ""
        return [Completion(cont, start_position=0, display=tail + cont, display_meta="model") for cont in found]

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if text.lstrip().startswith(":"):
            yield from self._meta(text)
            return
        if not eligible(text):
            return
        found = continuations(self.engine(), text, MENU_SIZE, self.temperature, threading.Event())
        yield from self._completions(text, found)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        text = document.text_before_cursor
        if text.lstrip().startswith(":"):
            for completion in self._meta(text):
                yield completion
            return
        if not eligible(text):
            return
        self._seed += 1
        seed = self._seed
        job = self.worker.submit(
            lambda cancel: continuations(self.engine(), text, MENU_SIZE, self.temperature, cancel, seed), key="menu"
        )
        found = await asyncio.wrap_future(job.future)
        for completion in self._completions(text, found or []):
            yield completion
