"""The app factory: routes, guards and error handlers around one engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from bash_ai import __version__
from bash_ai.server.backend import ServerBackend
from bash_ai.server.http_errors import install_handlers
from bash_ai.server.limits import GenerationPool, ServerLimits
from bash_ai.server.middleware import BearerAuth, BodyGuard, LoopbackHostGuard
from bash_ai.server.routes import ServerState

if TYPE_CHECKING:
    from bash_ai.engine.engine import Engine

DESCRIPTION = (
    "Local natural-language-to-bash. `POST /generate` returns checked candidates (syntax, danger "
    "flags); `/v1/completions` and `/v1/chat/completions` speak OpenAI's API, with a plain-English "
    "request as the prompt or last user message. The server never executes commands."
)


def create_app(
    engine: Engine,
    *,
    model_id: str,
    limits: ServerLimits | None = None,
    api_key: str | None = None,
    loopback_only: bool = False,
) -> FastAPI:
    """A FastAPI app serving ``engine``. ``api_key`` (when non-empty) is required on every route;
    ``loopback_only`` (for a loopback bind) refuses requests whose Host is not a loopback name."""
    from bash_ai.server import openai_routes, routes

    limits = limits or ServerLimits()
    pool = GenerationPool(limits.workers, limits.queue)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown()

    # No /docs or /redoc: their pages load scripts from a CDN, and this server is for offline use.
    app = FastAPI(
        title="bash-ai",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.bash_ai = ServerState(backend=ServerBackend(engine, model_id, limits), pool=pool, limits=limits)
    install_handlers(app)
    app.include_router(routes.router)
    app.include_router(openai_routes.router)
    # Added last = runs first: the host check, auth, the body guard, then routing.
    app.add_middleware(BodyGuard, max_body_bytes=limits.max_body_bytes, body_timeout_s=limits.body_timeout_s)
    if api_key:
        app.add_middleware(BearerAuth, api_key=api_key)
    if loopback_only:
        app.add_middleware(LoopbackHostGuard)
    return app
