"""OpenAI-compatible routes, so OpenAI clients (shell_gpt, simonw/llm, the ``openai`` package) can
point their base URL at ``http://127.0.0.1:8765/v1``.

Both completion routes take a plain-English *request* and answer with the command: continuing raw
text in our prompt format would be of no use to a client. ``/v1/completions`` reads ``prompt``;
``/v1/chat/completions`` reads the last ``user`` message (system and earlier messages are
ignored: the model is trained on single requests). ``model`` may name anything: there is one
model, and responses name it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from bash_ai.errors import BashAIError
from bash_ai.server import jobs
from bash_ai.server.http_errors import ApiError, log
from bash_ai.server.openai_chunks import DONE, ChunkWriter, Flavor, sse, stream_error, whole_response
from bash_ai.server.routes import ServerState, state_of
from bash_ai.server.schemas import (
    SSE_DOC,
    ChatRequest,
    ChatResponse,
    CompletionRequest,
    CompletionResponse,
    ModelCard,
    ModelList,
)

router = APIRouter(prefix="/v1")

_STARTED = int(time.time())


def _card(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _STARTED, "owned_by": "bash-ai"}


@router.get("/models", response_model=ModelList, summary="The one model this server runs")
async def list_models(request: Request) -> Any:
    return {"object": "list", "data": [_card(state_of(request).backend.model_id)]}


@router.get("/models/{model_id:path}", response_model=ModelCard, summary="One model")
async def get_model(model_id: str, request: Request) -> Any:
    served = state_of(request).backend.model_id
    if model_id != served:
        raise ApiError(404, f"no model {model_id!r}; this server runs {served!r}", "model_not_found", "model")
    return _card(served)


@router.post("/completions", response_model=CompletionResponse, responses=SSE_DOC, summary="Request to command")
async def completions(body: CompletionRequest, request: Request) -> Any:
    """``prompt`` is a plain-English request; each choice's ``text`` is a command (never executed)."""
    prompt = body.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise ApiError(400, "prompt must be one string (or a list of exactly one)", "invalid_value", "prompt")
        prompt = prompt[0]
    return await _complete("text", prompt, body, body.max_tokens, state_of(request))


@router.post("/chat/completions", response_model=ChatResponse, responses=SSE_DOC, summary="Chat to command")
async def chat_completions(body: ChatRequest, request: Request) -> Any:
    """The last ``user`` message is the request; the assistant message is the command (never executed)."""
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise ApiError(400, "messages must include a 'user' message with the request", "invalid_value", "messages")
    content = users[-1].content
    if isinstance(content, list):
        content = "\n".join(part.text for part in content if part.type == "text" and part.text)
    max_tokens = body.max_completion_tokens or body.max_tokens
    return await _complete("chat", content or "", body, max_tokens, state_of(request))


async def _complete(
    flavor: Flavor, text: str, body: CompletionRequest | ChatRequest, max_tokens: int | None, state: ServerState
) -> Any:
    backend = state.backend
    prepared = backend.prepare(text, body.n, body, max_tokens)
    if not body.stream:
        candidates, spent = await jobs.run(state.pool, state.limits, lambda cancel: backend.generate(prepared, cancel))
        return whole_response(flavor, backend.model_id, candidates, prepared.prompt_tokens, spent)

    include_usage = body.stream_options is not None and body.stream_options.include_usage
    writer = ChunkWriter(flavor, backend.model_id, prepared.request, prepared.n, prepared.prompt_tokens, include_usage)
    events = await jobs.open_stream(
        state.pool, state.limits, lambda cancel: writer.run(backend.stream(prepared, cancel))
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_sse_body(events, state), media_type="text/event-stream", headers=headers)


async def _sse_body(events: jobs.EventStream, state: ServerState) -> AsyncIterator[bytes]:
    try:
        async for item in events:
            if isinstance(item, TimeoutError):
                err = jobs.timed_out(state.limits)
                yield stream_error(err.status, err.message, err.code)
            elif isinstance(item, ApiError):
                yield stream_error(item.status, item.message, item.code)
            elif isinstance(item, BashAIError):
                yield stream_error(500, str(item), "generation_failed")
            elif isinstance(item, BaseException):
                log.error("a streamed generation failed", exc_info=item)
                yield stream_error(500, f"internal server error ({type(item).__name__})", "internal_error")
            else:
                yield sse(item)
        yield DONE
    finally:
        events.close()
