"""``bash-ai serve``: a local HTTP API (native ``/generate`` plus OpenAI-compatible ``/v1``).

The server is a thin face over the same engine as the CLI and REPL. It never executes commands:
it returns text plus syntax and danger flags. FastAPI and uvicorn come from the ``serve`` extra and
are imported only by the modules of this package, never by this ``__init__``, so
``require_serve_extra`` can turn a missing install into one clear line.
"""

from __future__ import annotations

from bash_ai.errors import BashAIError

INSTALL_HINT = "pip install 'bash-ai[serve]'"


class MissingExtraError(BashAIError):
    """The ``serve`` extra (FastAPI, uvicorn) is not installed."""


def require_serve_extra() -> None:
    """Raise a one-line, actionable error when FastAPI or uvicorn is missing."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(f"the HTTP server needs {' and '.join(missing)}: {INSTALL_HINT}")
