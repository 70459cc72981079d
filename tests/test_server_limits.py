"""Server limits and bad input: each gets a 4xx/5xx with one clear line, and the server keeps serving.

Busy (429), timeout (504) and client disconnects are produced on purpose with ``PacedEngine``:
the real engine, paced or gated, so the server's own machinery is what is tested.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from server_helpers import PacedEngine, error_of, load_engine, served, stream_post, wait_until  # noqa: E402

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> Any:
    return load_engine(tiny_model_dir)


@pytest.fixture(scope="module")
def url(engine: Any) -> Iterator[str]:
    with served(engine, max_body_bytes=4096, max_prompt_chars=300, max_prompt_tokens=20, max_tokens_cap=8) as base:
        yield base


@pytest.fixture()
def client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as c:
        yield c


def _alive(client: httpx.Client) -> None:
    assert client.get("/health").json()["status"] == "ok"
    r = client.post("/generate", json={"request": "list files", "max_tokens": 4})
    assert r.status_code == 200 and r.json()["candidates"], r.text


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("/generate", b'{"request": "list', 400, "invalid_json"),
    ("/generate", b"\xff\xfe not utf-8", 400, "invalid_json"),
    ("/generate", b"[1, 2]", 422, "invalid_value"),
    ("/generate", b"{}", 422, "missing_field"),
    ("/generate", {"request": 5}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "n": "three"}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "n": True}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "n": "2"}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "max_tokens": 8.5}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "temperature": True}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "temperature": -1}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "max_tokens": 0}, 422, "invalid_value"),
    ("/generate", {"request": "ls", "n": 99}, 400, "n_too_large"),
    ("/generate", {"request": "   "}, 400, "invalid_request"),
    ("/generate", {"request": "say <|bash|> hi"}, 400, "invalid_request"),
    ("/generate", b'{"request": "list \\ud800 files"}', 400, "invalid_request"),
    ("/generate", b'{"request": "ls\\u0000x"}', 400, "invalid_request"),
    (CHAT, b'{"messages": [{"role": "user", "content": "\\udfff"}]}', 400, "invalid_request"),
    ("/generate", {"request": "ls", "stop": ["a", "b", "c", "d", "e"]}, 400, "invalid_value"),
    ("/generate", {"request": "x" * 301}, 400, "prompt_too_long"),
    ("/generate", {"request": "list " * 40}, 400, "prompt_too_long"),  # under 300 chars, over 20 tokens
    ("/v1/completions", {"prompt": ["one", "two"]}, 400, "invalid_value"),
    ("/v1/completions", {"prompt": None}, 422, "invalid_value"),
    (CHAT, {"messages": []}, 422, "invalid_value"),
    (CHAT, {"messages": [{"role": "system", "content": "hi"}]}, 400, "invalid_value"),
    (CHAT, {"messages": "list files"}, 422, "invalid_value"),
    (CHAT, {"messages": [{"role": "user", "content": "ls"}], "stream": "yes"}, 422, "invalid_value"),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), BAD_BODIES)
def test_bad_input_gets_a_clear_error(client: httpx.Client, path: str, body: Any, status: int, code: str) -> None:
    if isinstance(body, bytes):
        r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        r = client.post(path, json=body)
    assert r.status_code == status, r.text
    error = error_of(r)
    assert error["code"] == code
    assert len(error["message"]) < 300


def test_defaults_are_the_clis(engine: Any) -> None:
    """No temperature or max_tokens in the body means the CLI's (random weights: any change shows)."""
    from bash_ai.answer import answer
    from bash_ai.engine import SamplingParams
    from bash_ai.server.backend import ServerBackend
    from bash_ai.server.limits import ServerLimits
    from bash_ai.server.schemas import Sampling

    backend = ServerBackend(engine, "m", ServerLimits())
    assert backend.params("list files", Sampling()) == SamplingParams(temperature=0.3, max_tokens=96)
    assert backend.params("write a script to back up docs", Sampling()).max_tokens == 320
    assert (
        backend.params("ls", Sampling(max_tokens=10_000, temperature=1.0)).max_tokens == ServerLimits().max_tokens_cap
    )
    with served(engine) as base:
        body = httpx.post(base + "/generate", json={"request": "list files", "n": 2, "seed": 7}).json()
        plain = httpx.post(base + "/generate", json={"request": "list files", "n": 2}).json()
    params = SamplingParams(temperature=0.3, seed=7, max_tokens=96)
    assert [c["text"] for c in body["candidates"]] == [c.text for c in answer(engine, "list files", 2, params)]
    # No sampling option at all: the CLI's own answer path (beam search and pooled commands).
    cli = answer(engine, "list files", 2)
    assert [c["text"] for c in plain["candidates"]] == [c.text for c in cli]
    assert [c["sure"] for c in plain["candidates"]] == [c.sure for c in cli]  # the reranker's verdict, if any


def test_validation_error_names_the_field(client: httpx.Client) -> None:
    error = error_of(client.post("/generate", json={"request": "ls", "n": "three"}))
    assert error["param"] == "n" and error["message"].startswith("n: ")


def test_body_limits(client: httpx.Client) -> None:
    big = {"request": "ls", "pad": "x" * 5000}
    r = client.post("/generate", json=big)
    assert r.status_code == 413 and error_of(r)["code"] == "body_too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the guard must count as it reads
        yield b'{"request": "ls", "pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = client.post("/generate", content=chunked(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post("/generate", content=b'{"request": "ls"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and error_of(r)["code"] == "unsupported_media_type"
    r = client.post("/generate", content=b'{"request": "ls"}')  # no content type at all
    assert r.status_code == 415
    _alive(client)


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert error_of(client.get("/v2/nothing"))["code"] == "http_404"
    r = client.get("/generate")
    assert r.status_code == 405 and "GET" in error_of(r)["message"]


def test_max_tokens_is_clamped(client: httpx.Client) -> None:
    body = {"prompt": "list files", "max_tokens": 100000, "stream": True, "stream_options": {"include_usage": True}}
    body |= {"temperature": 1.5, "n": 4, "seed": 5}
    r, events = stream_post(client, "/v1/completions", body)
    assert r.status_code == 200 and events[-1] == "[DONE]"
    usage = events[-2]["usage"]
    assert 0 < usage["completion_tokens"] <= 4 * 8


def test_server_survives_every_bad_request(client: httpx.Client) -> None:
    for path, body, _, _ in BAD_BODIES:
        if isinstance(body, bytes):
            client.post(path, content=body, headers={"Content-Type": "application/json"})
        else:
            client.post(path, json=body)
    _alive(client)


def _post(base: str, path: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=30) as c:
        if body.get("stream"):
            response, events = stream_post(c, path, body)
            response.events = events  # type: ignore[attr-defined]
            return response
        return c.post(path, json=body)


def test_queue_bound_turns_extra_requests_away(engine: Any) -> None:
    gate = threading.Event()
    paced = PacedEngine(engine, gate=gate)
    with served(paced, workers=1, queue=1) as base, ThreadPoolExecutor(4) as pool:
        health = httpx.get(base + "/health").json()
        assert health["capacity"] == 2
        # Sampled (a temperature), so the paced engine holds them token by token.
        held = [
            pool.submit(_post, base, "/generate", {"request": f"list files {i}", "temperature": 1.0}) for i in range(2)
        ]
        assert wait_until(lambda: httpx.get(base + "/health").json()["running"] == 2)
        for path, body in (
            ("/generate", {"request": "ls"}),
            ("/v1/completions", {"prompt": "ls", "stream": True}),
            (CHAT, {"messages": [{"role": "user", "content": "ls"}]}),
        ):
            r = _post(base, path, body)
            assert r.status_code == 429, r.text
            assert error_of(r)["code"] == "server_busy" and int(r.headers["retry-after"]) >= 1
        gate.set()
        assert [f.result().status_code for f in held] == [200, 200]
        assert wait_until(lambda: httpx.get(base + "/health").json()["running"] == 0)
        assert _post(base, "/generate", {"request": "ls"}).status_code == 200


def test_timeout_gives_504_and_stops_the_work(engine: Any) -> None:
    # Each event waits longer than the whole timeout: a 504 however short the sampled answer (with
    # 0.1 s per event, an answer the tiny model ended within four tokens came back 200 once in CI).
    paced = PacedEngine(engine, delay=0.6)
    with served(paced, timeout_s=0.5) as base:
        r = _post(base, "/generate", {"request": "list files", "max_tokens": 60, "temperature": 1.0})
        assert r.status_code == 504 and error_of(r)["code"] == "timeout"
        assert wait_until(lambda: paced.running == 0, timeout=2.0)
        paced.delay = 0.0
        assert _post(base, "/generate", {"request": "ls", "max_tokens": 4}).status_code == 200


def test_stream_that_never_starts_gets_504(engine: Any) -> None:
    paced = PacedEngine(engine, gate=threading.Event())
    with served(paced, timeout_s=0.5) as base:
        r = _post(base, "/v1/completions", {"prompt": "ls", "stream": True})
        assert r.status_code == 504 and error_of(r)["code"] == "timeout"
        assert wait_until(lambda: paced.running == 0, timeout=2.0)


def test_stream_that_stalls_ends_with_an_error_event(engine: Any) -> None:
    paced = PacedEngine(engine, delay=0.3)  # a chat stream opens at once; the 2nd engine event is late
    with served(paced, timeout_s=0.5) as base:
        body = {"messages": [{"role": "user", "content": "ls"}], "stream": True, "max_tokens": 60, "temperature": 1}
        r = _post(base, CHAT, body)
        events = r.events  # type: ignore[attr-defined]
        assert r.status_code == 200 and events[-1] == "[DONE]"
        assert events[-2].get("error", {}).get("code") == "timeout", events
        assert wait_until(lambda: paced.running == 0, timeout=2.0)


def test_client_disconnect_stops_generation(engine: Any) -> None:
    paced = PacedEngine(engine, delay=0.05)
    with served(paced) as base, httpx.Client(base_url=base, timeout=30) as c:
        body = {"prompt": "list files", "stream": True, "max_tokens": 60, "temperature": 1.0, "n": 2}
        with c.stream("POST", "/v1/completions", json=body) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        # 60 tokens x 0.05 s would run 3 s; a stopped worker finishes well before.
        assert wait_until(lambda: paced.running == 0, timeout=1.5)
        assert wait_until(lambda: c.get("/health").json()["running"] == 0, timeout=1.0)


def test_the_server_says_when_the_bundled_model_is_unsure() -> None:
    """``sure`` in /generate is the reranker's verdict, as the CLI's ``--json`` has it: false for a
    request the bundled model is unsure of, true for one it is sure of (the pair of test_installed)."""
    from bash_ai.paths import bundled_model_dir

    engine = load_engine(bundled_model_dir())
    with served(engine) as base:
        for request, sure in (
            ("find files larger than 100MB", True),
            ("show free memory", False),
        ):
            body = httpx.post(base + "/generate", json={"request": request}, timeout=60).json()
            assert body["candidates"][0]["sure"] is sure, body
