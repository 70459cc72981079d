"""``bash-ai serve``: the local HTTP API (FastAPI and uvicorn are imported only when it runs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from bash_ai.errors import UsageError

Opt = typer.Option

DEFAULT_KEY_ENV = "BASH_AI_API_KEY"
BATCH_WORKERS = 8  # concurrent generations when batching: their decode steps share forward passes
BATCH_ROWS = 32  # rows of the shared key/value slab (a request takes one per candidate)


def register(app: typer.Typer) -> None:
    app.command("serve", help="Serve a local HTTP API (/generate and OpenAI-compatible /v1). Never runs commands.")(
        serve
    )


def model_id(model: str | None) -> str:
    """The name clients see in ``/v1/models`` and in every response."""
    if not model:
        return "bash-ai"
    return Path(model).name if os.sep in model or Path(model).exists() else model


def api_key_from_env(var: str, explicit: bool) -> str | None:
    """The key from ``var``; an explicitly named but empty variable is an error, not "no auth"."""
    if not var.strip():
        raise UsageError("--api-key-env needs the name of an environment variable")
    value = os.environ.get(var, "").strip()
    if not value and explicit:
        raise UsageError(f"--api-key-env {var}: that environment variable is not set or empty")
    return value or None


def serve(
    host: Annotated[str, Opt(help="Address to listen on; anything but loopback is reachable from the network")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, Opt(help="TCP port (0 picks a free one)")] = 8765,
    model: Annotated[
        str | None, Opt("--model", "-m", help="Model name or directory (default: the bundled model)")
    ] = None,
    api_key_env: Annotated[
        str | None,
        Opt(
            help=f"Require 'Authorization: Bearer <key>' with the key from this variable [default: {DEFAULT_KEY_ENV} if set]"
        ),
    ] = None,
    workers: Annotated[
        int | None, Opt(help=f"Generations run at once (default: {BATCH_WORKERS} batched, else one per core)")
    ] = None,
    batch: Annotated[
        bool, Opt(help="Decode concurrent requests together, one forward pass per step (continuous batching)")
    ] = True,
    queue: Annotated[int, Opt(help="Generations that may wait for a worker; more get 429")] = 16,
    timeout: Annotated[float, Opt(help="Seconds before a generation is abandoned with 504")] = 60.0,
    access_log: Annotated[bool, Opt(help="Log each request on stderr")] = True,
) -> None:
    from bash_ai.server import require_serve_extra

    require_serve_extra()
    from bash_ai.server.limits import ServerLimits
    from bash_ai.server.run import bind, is_loopback
    from bash_ai.term.ui import warn

    if batch:  # two threads share the cores (prefill beside decode): one BLAS thread each
        from bash_ai.api import import_numpy_single_threaded

        import_numpy_single_threaded()
    key = api_key_from_env(api_key_env or DEFAULT_KEY_ENV, explicit=api_key_env is not None)
    default_workers = BATCH_WORKERS if batch else ServerLimits().workers
    limits = ServerLimits(workers=workers or default_workers, queue=queue, timeout_s=timeout)
    sock = bind(host, port)  # before loading the model: a busy port fails fast
    if not is_loopback(host):
        exposure = "a bearer token is required" if key else f"NO API key is set ({DEFAULT_KEY_ENV})"
        warn(f"listening on {host}: the API is reachable from other machines and {exposure}")

    from bash_ai.engine.batcher import start_batching
    from bash_ai.registry import load
    from bash_ai.server.app import create_app
    from bash_ai.server.run import serve_forever

    try:
        engine = load(model)
        if batch and not start_batching(engine, max_rows=BATCH_ROWS):
            warn("this model's runtime cannot batch requests; each is decoded by itself")
        app = create_app(engine, model_id=model_id(model), limits=limits, api_key=key, loopback_only=is_loopback(host))
    except BaseException:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    typer.echo(
        f"bash-ai: serving {model_id(model)} on http://{shown}:{bound_port} (OpenAI base URL http://{shown}:{bound_port}/v1)"
        + ("; bearer token required" if key else ""),
        err=True,
    )
    serve_forever(app, sock, access_log=access_log)
