"""The native routes: ``POST /generate`` (checked candidates), ``POST /explain`` and ``GET /health``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from bash_ai.server import jobs
from bash_ai.server.backend import ServerBackend
from bash_ai.server.limits import GenerationPool, ServerLimits
from bash_ai.server.schemas import ExplainRequest, ExplainResponse, GenerateRequest, GenerateResponse, Health

if TYPE_CHECKING:
    from bash_ai.answer import Candidate

router = APIRouter()


@dataclass
class ServerState:
    """What every route needs; stored on ``app.state.bash_ai``."""

    backend: ServerBackend
    pool: GenerationPool
    limits: ServerLimits


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.bash_ai
    return state


def candidate_out(index: int, candidate: Candidate) -> dict[str, Any]:
    return {"index": index, **candidate.to_dict()}


@router.post("/generate", response_model=GenerateResponse, summary="Request to checked command/script candidates")
async def generate(body: GenerateRequest, request: Request) -> Any:
    """Sample ``n`` distinct candidates for a plain-English request.

    Each carries bash's syntax verdict (``bash -n``), danger flags and shellcheck findings. The
    server never runs them. Invalid candidates are resampled a bounded number of times first.
    """
    state = state_of(request)
    prepared = state.backend.prepare(body.request, body.n, body)
    candidates, spent = await jobs.run(
        state.pool, state.limits, lambda cancel: state.backend.generate(prepared, cancel)
    )
    return {
        "id": "gen-" + uuid.uuid4().hex[:24],
        "created": int(time.time()),
        "model": state.backend.model_id,
        "request": prepared.request,
        "candidates": [candidate_out(i, c) for i, c in enumerate(candidates)],
        "usage": {
            "prompt_tokens": prepared.prompt_tokens,
            "completion_tokens": spent,
            "total_tokens": prepared.prompt_tokens + spent,
        },
    }


@router.post("/explain", response_model=ExplainResponse, summary="A command, explained part by part")
async def explain(body: ExplainRequest, request: Request) -> Any:
    """What ``bash-ai explain`` prints: a one-sentence summary, then each part (program, option,
    operator, redirection) described by the server machine's man pages. Never runs the command."""
    state = state_of(request)
    result = await jobs.run(
        state.pool, state.limits, lambda cancel: state.backend.explain(body.command, body.summary, cancel)
    )
    return {"model": state.backend.model_id, **result.to_dict()}


@router.get("/health", response_model=Health, summary="Liveness and load")
async def health(request: Request) -> Any:
    state = state_of(request)
    return {"model": state.backend.model_id, "running": state.pool.in_flight, "capacity": state.pool.capacity}
