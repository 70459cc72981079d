"""What the routes need from the engine, in one place: limits checks, sampling params, generation.

The routes never touch the engine directly, so the engine's interface is used here only. Everything
that calls the model runs on a worker thread (``GenerationPool``); the rest is cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from bash_ai.server.http_errors import ApiError
from bash_ai.server.limits import ServerLimits, Slot
from bash_ai.server.schemas import Sampling

if TYPE_CHECKING:
    from bash_ai.answer import Candidate, Explanation, SummaryStrategy
    from bash_ai.engine.engine import Engine
    from bash_ai.engine.events import Event
    from bash_ai.engine.sampling import SamplingParams

MAX_STOP_STRINGS = 4  # as OpenAI's API


@dataclass
class Prepared:
    """A validated request, ready for a worker: its text, prompt size and sampling params."""

    request: str
    prompt_tokens: int
    n: int
    params: SamplingParams
    beam: bool = False  # no sampling option given: answer as the CLI does (beam search + pooled commands)


class ServerBackend:
    def __init__(self, engine: Engine, model_id: str, limits: ServerLimits) -> None:
        self.engine = engine
        self.model_id = model_id
        self.limits = limits

    @property
    def context_length(self) -> int:
        return int(self.engine.context_length)

    @property
    def max_prompt_tokens(self) -> int:
        """Half the context at most: the engine keeps that much for the prompt, so it is never cut."""
        return max(1, min(self.limits.max_prompt_tokens, self.context_length // 2))

    def count_tokens(self, request: str) -> int:
        """Prompt tokens for a request, markers included (the engine's own task encoding)."""
        return len(self.engine.task_ids("ask", request))

    def prepare(self, request: str, n: int, sampling: Sampling, max_tokens: int | None = None) -> Prepared:
        """Check the request against the limits and build sampling params (``ApiError`` on bad input)."""
        from bash_ai.answer import validate_request
        from bash_ai.errors import UsageError
        from bash_ai.prompt import SPECIAL_TOKENS

        if len(request) > self.limits.max_prompt_chars:
            raise ApiError(
                400,
                f"the request is too long ({len(request)} characters; this server accepts {self.limits.max_prompt_chars})",
                "prompt_too_long",
            )
        try:
            request = validate_request(request)
        except UsageError as err:
            raise ApiError(400, str(err), "invalid_request") from None
        marker = next((t for t in SPECIAL_TOKENS if t in request), None)
        if marker is not None:
            raise ApiError(400, f"the request may not contain the model's marker {marker}", "invalid_request")
        if n > self.limits.max_n:
            raise ApiError(
                400, f"n is {n}; this server returns at most {self.limits.max_n} candidates", "n_too_large", "n"
            )
        prompt_tokens = self.count_tokens(request)
        if prompt_tokens > self.max_prompt_tokens:
            raise ApiError(
                400,
                f"the request is too long ({prompt_tokens} tokens; this model accepts {self.max_prompt_tokens})",
                "prompt_too_long",
            )
        chosen = sampling.model_dump(include=_PARAM_NAMES | {"stop"}, exclude_none=True)
        return Prepared(request, prompt_tokens, n, self.params(request, sampling, max_tokens), beam=not chosen)

    def params(self, request: str, sampling: Sampling, max_tokens: int | None = None) -> SamplingParams:
        """Engine sampling params. Unset values take the CLI's defaults (temperature, a token budget
        by command or script); ``max_tokens`` is clamped to the server's cap."""
        from bash_ai.answer import DEFAULT_TEMPERATURE, default_max_tokens
        from bash_ai.engine import SamplingParams
        from bash_ai.errors import UsageError

        values = {"temperature": DEFAULT_TEMPERATURE} | sampling.model_dump(include=_PARAM_NAMES, exclude_none=True)
        stop = [sampling.stop] if isinstance(sampling.stop, str) else list(sampling.stop or [])
        if len(stop) > MAX_STOP_STRINGS or any(not s for s in stop):
            raise ApiError(400, f"stop takes 1 to {MAX_STOP_STRINGS} non-empty strings", "invalid_value", "stop")
        if stop:
            values["stop"] = tuple(stop)
        requested = max_tokens if max_tokens is not None else sampling.max_tokens
        values["max_tokens"] = min(requested or default_max_tokens(request), self.limits.max_tokens_cap)
        try:
            return SamplingParams(**values)
        except UsageError as err:
            raise ApiError(400, str(err), "invalid_value") from None

    def generate(self, prepared: Prepared, cancel: threading.Event) -> tuple[list[Candidate], int]:
        """Checked candidates (``bash_ai.answer``) and the completion tokens spent on them."""
        from bash_ai.answer import answer, wants_script
        from bash_ai.engine import Finished

        spent = 0

        def count(event: Event) -> None:
            nonlocal spent
            if isinstance(event, Finished):
                spent += int(event.n_tokens)

        if prepared.beam and not wants_script(prepared.request):  # the CLI's answer path for a command
            from bash_ai.engine.propose import DecodeConfig

            decode = DecodeConfig(max_tokens=prepared.params.max_tokens)
            candidates = answer(self.engine, prepared.request, prepared.n, None, cancel=cancel, decode=decode)
            return candidates, sum(c.n_tokens for c in candidates)
        candidates = answer(self.engine, prepared.request, prepared.n, prepared.params, cancel=cancel, on_event=count)
        return candidates, spent

    def stream(self, prepared: Prepared, cancel: threading.Event) -> Iterator[Event]:
        """The engine's typed events for one sampling round (no resampling: tokens are shown as they come)."""
        return iter(self.engine.stream_ask(prepared.request, prepared.params, prepared.n, cancel=cancel))

    def explain(self, command: str, summary: SummaryStrategy, cancel: threading.Event) -> Explanation:
        """``bash_ai.answer.explain``: the summary (greedy), the parts and the command's checks."""
        from bash_ai.answer import explain
        from bash_ai.engine import SamplingParams
        from bash_ai.errors import UsageError

        if len(command) > self.limits.max_prompt_chars:
            raise ApiError(400, f"the command is too long ({len(command)} characters)", "prompt_too_long")
        params = SamplingParams(temperature=0.0, max_tokens=min(96, self.limits.max_tokens_cap))
        try:
            return explain(self.engine, command, params, cancel=cancel, summary=summary)
        except UsageError as err:
            raise ApiError(400, str(err), "invalid_request") from None


_PARAM_NAMES = {"temperature", "top_k", "top_p", "repetition_penalty", "seed"}  # passed to the engine as they are


class End:
    """Pushed after the last event of a stream."""


END = End()
T = TypeVar("T")
# What a worker pushes to the event loop: the stream's items (events, or chunks made of them), the
# exception that ended it, then END.
StreamItem: TypeAlias = T | BaseException | End


def pump(
    slot: Slot, events: Callable[[], Iterator[T]], sink: Callable[[StreamItem[T]], None], cancel: threading.Event
) -> None:
    """Worker-thread side of a stream: push each event (or the exception that ended it), then ``END``.

    The pool slot is given back just before ``END``: once a client can see the end, the slot is free.
    """
    try:
        if cancel.is_set():  # timed out while it waited for a worker
            return
        for event in events():
            sink(event)
            if cancel.is_set():
                break
    except BaseException as exc:  # noqa: BLE001 - handed to the event loop, which renders it
        sink(exc)
    finally:
        slot.release()
        sink(END)
