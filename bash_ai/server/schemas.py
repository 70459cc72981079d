"""Request and response bodies (pydantic), which also make the OpenAPI schema at ``/openapi.json``.

Request models ignore unknown fields: OpenAI clients send many options we have no use for
(``frequency_penalty``, ``tools``, ``user``...), and rejecting them would break those clients.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Sampling(_Request):
    """Sampling options shared by every generating route; unset means the CLI's default.

    Numbers are strict, as JSON types: ``true`` or ``"2"`` is not a number (an int is a float)."""

    temperature: float | None = Field(
        None, ge=0.0, le=2.0, strict=True, description="0 means greedy; default 0.3 (as the CLI)"
    )
    top_k: int | None = Field(None, ge=0, strict=True, description="0 means no top-k cut")
    top_p: float | None = Field(None, gt=0.0, le=1.0, strict=True)
    repetition_penalty: float | None = Field(None, gt=0.0, le=10.0, strict=True)
    max_tokens: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="default 96 for a command, 320 for a script (as the CLI); clamped to the server's cap",
    )
    stop: str | list[str] | None = Field(None, description="up to 4 stop strings")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)


class GenerateRequest(Sampling):
    request: str = Field(..., description="what the command should do, in plain English")
    n: int = Field(1, ge=1, strict=True, description="how many distinct candidates (capped by the server)")


class SyntaxCheck(BaseModel):
    ok: bool
    message: str


class CandidateOut(BaseModel):
    index: int
    text: str = Field(..., description="the command or script; never executed by the server")
    kind: Literal["command", "script"]
    syntax: SyntaxCheck
    danger: list[dict[str, Any]] = Field(..., description="danger flags (bash_ai.safety); empty when none")
    shellcheck: list[dict[str, Any]]
    finish_reason: str
    missing: list[str] = Field(default_factory=list, description="its programs the server's machine lacks")
    sure: bool | None = Field(
        None, description="false where the model's reranker scores it low (likely wrong); null where none ranked it"
    )


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class GenerateResponse(BaseModel):
    id: str
    object: Literal["bash_ai.generation"] = "bash_ai.generation"
    created: int
    model: str
    request: str
    candidates: list[CandidateOut]
    usage: Usage


# --- OpenAI-compatible -------------------------------------------------------------------------


class StreamOptions(_Request):
    include_usage: bool = False


class CompletionRequest(Sampling):
    """``prompt`` is a plain-English request (not raw text to continue); the completion is the command."""

    model: str | None = None
    prompt: str | list[str] = Field(..., description="a natural-language request (a list must hold exactly one)")
    n: int = Field(1, ge=1, strict=True)
    stream: bool = Field(False, strict=True, description="server-sent events; a JSON boolean")
    stream_options: StreamOptions | None = None


class ContentPart(_Request):
    type: str
    text: str | None = None


class ChatMessage(_Request):
    role: str
    content: str | list[ContentPart] | None = None


class ChatRequest(Sampling):
    """The last ``user`` message is the request; system and assistant messages are ignored."""

    model: str | None = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    n: int = Field(1, ge=1, strict=True)
    stream: bool = Field(False, strict=True, description="server-sent events; a JSON boolean")
    stream_options: StreamOptions | None = None
    max_completion_tokens: int | None = Field(None, ge=1, strict=True, description="newer name for max_tokens")


class Checks(BaseModel):
    """bash-ai's extension on each choice: what the native /generate route reports per candidate."""

    text: str = Field(..., description="the final checked text (a streamed script gets its header here)")
    kind: Literal["command", "script"]
    syntax: SyntaxCheck
    danger: list[dict[str, Any]]
    shellcheck: list[dict[str, Any]]


class _Choice(BaseModel):
    """What a choice of both OpenAI response shapes carries besides its text."""

    index: int
    logprobs: None = None
    finish_reason: str
    bash_ai: Checks | None = None


class CompletionChoice(_Choice):
    text: str


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(_Choice):
    message: AssistantMessage


class _Response(BaseModel):
    """What both OpenAI response shapes carry besides their choices."""

    id: str
    created: int
    model: str
    usage: Usage


class CompletionResponse(_Response):
    object: Literal["text_completion"] = "text_completion"
    choices: list[CompletionChoice]


class ChatResponse(_Response):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[ChatChoice]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "bash-ai"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str
    running: int = Field(..., description="generations running or waiting")
    capacity: int


SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with ``stream: true`` server-sent events: ``data: <chunk>`` lines ending "
        "with ``data: [DONE]``",
        "content": {"text/event-stream": {}},
    }
}


class ExplainRequest(_Request):
    command: str = Field(..., description="the bash command to explain (never executed)")
    summary: Literal["auto", "model", "retrieval", "parts"] = Field(
        "auto", description="where the one-sentence summary comes from (as bash-ai explain --summary)"
    )


class PartOut(BaseModel):
    kind: str = Field(..., description="program | subcommand | option | argument | operator | redirect | ...")
    text: str
    description: str
    source: Literal["man", "tldr", "fixed", "model", "unknown"]
    depth: int = Field(..., description="nesting: 1 inside $( ), find -exec, xargs, sudo ...")
    invocation: str


class ExplainResponse(BaseModel):
    object: Literal["bash_ai.explanation"] = "bash_ai.explanation"
    model: str
    command: str
    summary: str
    summary_source: str
    parts: list[PartOut]
    syntax: SyntaxCheck
    danger: list[dict[str, Any]]
