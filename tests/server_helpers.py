"""Helpers for the HTTP server tests: a paced engine, a served app, and an SSE reader.

The server under test is always the real app under real uvicorn on a free loopback port, spoken
to with a real HTTP client (httpx, or the ``openai`` package). ``PacedEngine`` is the real engine
with a pause before each of its events (and an optional gate before the first), so that busy,
timeout and disconnect behaviour can be produced on purpose without a big model.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


class PacedEngine:
    """Delegates to a real ``Engine``; ``stream_ask`` waits ``delay`` seconds before each event.

    ``gate``: when given, generation waits for it (or for cancellation) before starting.
    ``started``/``ended`` count generations, so tests can see that a cancelled one really stopped.
    """

    def __init__(self, engine: Any, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self._engine = engine
        self.delay = delay
        self.gate = gate
        self.started = 0
        self.ended = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @property
    def running(self) -> int:
        with self._lock:
            return self.started - self.ended

    def stream_ask(self, request: str, params: Any = None, n: int = 1, *, cancel: threading.Event | None = None) -> Any:
        cancel = cancel or threading.Event()
        with self._lock:
            self.started += 1
        try:
            while self.gate is not None and not self.gate.is_set():
                if cancel.wait(0.01):
                    return
            for event in self._engine.stream_ask(request, params, n, cancel=cancel):
                if self.delay and cancel.wait(self.delay):
                    return
                yield event
        finally:
            with self._lock:
                self.ended += 1


@contextmanager
def served(
    engine: Any, model_id: str = "test-model", api_key: str | None = None, loopback_only: bool = True, **limits: Any
) -> Iterator[str]:
    """The app for ``engine`` under real uvicorn on a free loopback port; yields its base URL.

    ``loopback_only`` as ``bash-ai serve`` sets it for a loopback bind (its default)."""
    from bash_ai.server.app import create_app
    from bash_ai.server.limits import ServerLimits
    from bash_ai.server.run import BackgroundServer

    app = create_app(
        engine, model_id=model_id, limits=ServerLimits(**limits), api_key=api_key, loopback_only=loopback_only
    )
    with BackgroundServer(app) as server:
        yield server.url


def load_engine(model_dir: Path) -> Any:
    from bash_ai.registry import load

    return load(str(model_dir))


def sse_events(response: httpx.Response) -> list[Any]:
    """The ``data:`` payloads of a server-sent event stream, JSON-decoded (``[DONE]`` kept as is)."""
    events: list[Any] = []
    buffer = ""
    for text in response.iter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            data = "\n".join(line[len("data: ") :] for line in block.split("\n") if line.startswith("data: "))
            events.append(data if data == "[DONE]" else json.loads(data))
    assert buffer == "", f"stream ended mid-event: {buffer!r}"
    return events


def stream_post(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[httpx.Response, list[Any]]:
    with client.stream("POST", path, json=body) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, sse_events(response)


def wait_until(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The OpenAI-shaped error object of a failed response (asserts the shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"] and "\n" not in error["message"]
    return error
