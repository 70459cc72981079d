"""One error shape for every failure: OpenAI's ``{"error": {"message", "type", "param", "code"}}``.

OpenAI clients (the ``openai`` package used by shell_gpt and simonw/llm) read ``error.message``,
so FastAPI's verbose 422 list and Starlette's ``{"detail": ...}`` are rewritten into this shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bash_ai.errors import BashAIError, GenerationError, ModelError, UsageError

log = logging.getLogger("bash_ai.server")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
    504: "timeout_error",
}


class ApiError(Exception):
    """Raised by routes for an expected failure; rendered as the OpenAI error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = dict(headers or {})


def error_body(status: int, message: str, code: str, param: str | None = None) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(
    status: int, message: str, code: str, param: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, param), status_code=status, headers=dict(headers or {}))


def _location(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts)


def validation_message(errors: Sequence[Mapping[str, Any]]) -> tuple[int, str, str, str | None]:
    """(status, message, code, param) for a list of pydantic/FastAPI errors, in one short line."""
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "not valid JSON")
        return 400, f"the request body is not valid JSON ({reason})", "invalid_json", None
    shown = []
    for e in errors[:3]:
        where = _location(e.get("loc", ()))
        msg = str(e.get("msg", "invalid value"))
        if e.get("type") == "missing":
            msg = "field required"
        shown.append(f"{where}: {msg}" if where else msg)
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    first = errors[0] if errors else {}
    code = "missing_field" if first.get("type") == "missing" else "invalid_value"
    return 422, "; ".join(shown) + more, code, _location(first.get("loc", ())) or None


def install_handlers(app: FastAPI) -> None:
    """Route every exception the app can raise to the one error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.param, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, code, param = validation_message(list(exc.errors()))
        return error_response(status, message, code, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"no such route: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, f"http_{exc.status_code}", headers=exc.headers)

    @app.exception_handler(BashAIError)
    async def _domain(_request: Request, exc: BashAIError) -> JSONResponse:
        if isinstance(exc, UsageError):
            return error_response(400, str(exc), "invalid_value")
        if isinstance(exc, ModelError):
            return error_response(500, str(exc), "model_error")
        if isinstance(exc, GenerationError):
            return error_response(500, str(exc), "generation_failed")
        return error_response(500, str(exc), "server_error")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error while serving a request")
        return error_response(500, f"internal server error ({type(exc).__name__})", "internal_error")
