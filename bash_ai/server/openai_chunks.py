"""OpenAI response shapes built from our engine's events and checked candidates.

Streamed text is the model's tokens as they come, with leading and trailing whitespace held back
so the concatenated deltas equal the final answer. The final chunk of each choice carries
``finish_reason`` and bash-ai's checks (``bash_ai``: kind, syntax, danger, the final text). Script
requests are sent whole at the end of their choice, because the script header (shebang, strict
mode) is only known once the body is.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from bash_ai.server.http_errors import error_body

if TYPE_CHECKING:
    from bash_ai.answer import Candidate
    from bash_ai.engine.events import Event, Finished

Flavor = Literal["chat", "text"]


def new_id(flavor: Flavor) -> str:
    return ("chatcmpl-" if flavor == "chat" else "cmpl-") + uuid.uuid4().hex[:24]


def finish_reason(reason: str) -> str:
    """OpenAI's vocabulary: ``length`` when cut by max_tokens, ``stop`` otherwise."""
    return "length" if reason == "length" else "stop"


def checks(candidate: Candidate) -> dict[str, Any]:
    data = candidate.to_dict()
    return {k: data[k] for k in ("text", "kind", "syntax", "danger", "shellcheck")}


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"data: {payload}\n\n".encode()


DONE = sse("[DONE]")


def stream_error(status: int, message: str, code: str) -> bytes:
    """An error after the 200 header went out: OpenAI's client raises on a chunk with ``error``."""
    return sse(error_body(status, message, code))


class ChunkWriter:
    """Turns one generation's engine events into OpenAI stream chunks (runs on the worker thread)."""

    def __init__(
        self, flavor: Flavor, model: str, request: str, n: int, prompt_tokens: int, include_usage: bool
    ) -> None:
        from bash_ai.answer import wants_script

        self.flavor = flavor
        self.id = new_id(flavor)
        self.created = int(time.time())
        self.model = model
        self.n = n
        self.prompt_tokens = prompt_tokens
        self.include_usage = include_usage
        self.script = wants_script(request)
        self.emitted: dict[int, str] = {}
        self.held: dict[int, str] = {}
        self.completion_tokens = 0

    def _chunk(self, index: int, text: str | None, reason: str | None = None, **extra: Any) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index}
        if self.flavor == "chat":
            choice["delta"] = {} if text is None else {"content": text}
            if extra.pop("role", False):
                choice["delta"]["role"] = "assistant"
        else:
            choice["text"] = text or ""
        choice["logprobs"] = None
        choice["finish_reason"] = reason
        choice.update(extra)
        obj = "chat.completion.chunk" if self.flavor == "chat" else "text_completion"
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model, "choices": [choice]}

    def opening(self) -> list[dict[str, Any]]:
        """Chat streams open each choice with the assistant role, as OpenAI's do."""
        if self.flavor != "chat":
            return []
        return [self._chunk(i, "", role=True) for i in range(self.n)]

    def feed(self, event: Event) -> list[dict[str, Any]]:
        from bash_ai.engine import Finished, TokenEvent

        if isinstance(event, TokenEvent):
            return self._token(int(event.index), str(event.text))
        if isinstance(event, Finished):
            return self._finished(event)
        return []

    def _token(self, index: int, text: str) -> list[dict[str, Any]]:
        if self.script:
            return []
        piece = self.held.get(index, "") + text
        if index not in self.emitted:
            piece = piece.lstrip()
        visible = piece.rstrip()
        self.held[index] = piece[len(visible) :]
        if not visible:
            return []
        self.emitted[index] = self.emitted.get(index, "") + visible
        return [self._chunk(index, visible)]

    def _finished(self, event: Finished) -> list[dict[str, Any]]:
        from bash_ai.answer import check, shaped

        self.completion_tokens += int(event.n_tokens)
        index = int(event.index)
        final, kind = shaped(event.text, self.script)
        candidate = check(final, kind, finish_reason=event.finish_reason) if final else None
        out = []
        sent = self.emitted.get(index, "")
        if final.startswith(sent) and len(final) > len(sent):
            out.append(self._chunk(index, final[len(sent) :]))
            self.emitted[index] = final
        extra = {"bash_ai": checks(candidate)} if candidate is not None else {}
        out.append(self._chunk(index, None, finish_reason(str(event.finish_reason)), **extra))
        return out

    def closing(self) -> list[dict[str, Any]]:
        """With ``stream_options.include_usage``: a last chunk with no choices and the usage."""
        if not self.include_usage:
            return []
        chunk = self._chunk(0, None)
        chunk["choices"] = []
        chunk["usage"] = usage(self.prompt_tokens, self.completion_tokens)
        return [chunk]

    def run(self, events: Iterable[Event]) -> Iterator[dict[str, Any]]:
        yield from self.opening()
        for event in events:
            yield from self.feed(event)
        yield from self.closing()


def whole_response(
    flavor: Flavor, model: str, candidates: list[Candidate], prompt_tokens: int, spent: int
) -> dict[str, Any]:
    """A non-streamed completion: one choice per checked candidate."""
    choices = []
    for i, cand in enumerate(candidates):
        choice: dict[str, Any] = {"index": i}
        if flavor == "chat":
            choice["message"] = {"role": "assistant", "content": cand.text}
        else:
            choice["text"] = cand.text
        choice.update(logprobs=None, finish_reason=finish_reason(cand.finish_reason), bash_ai=checks(cand))
        choices.append(choice)
    return {
        "id": new_id(flavor),
        "object": "chat.completion" if flavor == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage(prompt_tokens, spent),
    }
