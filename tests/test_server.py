"""The HTTP server's routes, streaming and auth, served by real uvicorn on loopback.

Content checks use the trained fixture model (greedy, so "say hello" must give ``echo hello``);
the ``openai`` package is the client where the route claims OpenAI compatibility.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from server_helpers import error_of, load_engine, served, sse_events, stream_post  # noqa: E402

GREEDY = {"temperature": 0}


@pytest.fixture(scope="module")
def engine(trained_model_dir: Path) -> Any:
    return load_engine(trained_model_dir)


@pytest.fixture(scope="module")
def url(engine: Any) -> Any:
    with served(engine) as base:
        yield base


@pytest.fixture()
def client(url: str) -> Any:
    with httpx.Client(base_url=url, timeout=30) as c:
        yield c


def test_generate_returns_checked_candidates(client: httpx.Client) -> None:
    r = client.post("/generate", json={"request": "  say hello ", **GREEDY})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "bash_ai.generation" and body["model"] == "test-model"
    assert body["request"] == "say hello"
    [cand] = body["candidates"]
    assert cand == {
        "index": 0,
        "text": "echo hello",
        "kind": "command",
        "syntax": {"ok": True, "message": ""},
        "danger": [],
        "shellcheck": cand["shellcheck"],
        "finish_reason": cand["finish_reason"],
        "missing": [],  # echo is a bash builtin
        "sure": None,  # sampled: no reranker ranked it
    }
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= len("echo hello") // 4
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_generate_flags_danger_and_never_executes(
    client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = client.post("/generate", json={"request": "delete everything here", **GREEDY})
    [cand] = r.json()["candidates"]
    assert cand["text"] == "rm -rf ./*"
    assert cand["danger"] and all(flag["rule_id"] and flag["message"] for flag in cand["danger"])
    r = client.post("/generate", json={"request": "make a marker file", **GREEDY})
    assert r.json()["candidates"][0]["text"] == "touch marker.txt"
    assert list(tmp_path.iterdir()) == []  # answered, not run


def test_generate_script_gets_a_header(client: httpx.Client) -> None:
    r = client.post("/generate", json={"request": "create backup script", **GREEDY})
    [cand] = r.json()["candidates"]
    assert cand["kind"] == "script"
    assert cand["text"].startswith("#!/usr/bin/env bash\nset -euo pipefail\n\n")
    assert "tar czf backup.tgz docs\necho done" in cand["text"]
    assert cand["syntax"]["ok"]


def test_generate_n_distinct_candidates(client: httpx.Client) -> None:
    r = client.post("/generate", json={"request": "say hello", "n": 3, "temperature": 1.5, "seed": 1})
    texts = [c["text"] for c in r.json()["candidates"]]
    assert 1 <= len(texts) <= 3 and len(set(texts)) == len(texts)
    assert [c["index"] for c in r.json()["candidates"]] == list(range(len(texts)))


@pytest.mark.tool("man")
def test_explain_route_is_the_cli_explanation(
    client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = client.post("/explain", json={"command": "rm -rf ./*"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "bash_ai.explanation" and body["model"] == "test-model"
    assert body["summary"] == "delete everything here"  # the trained model's words
    assert [p["text"] for p in body["parts"]] == ["rm", "-r", "-f", "./*"]
    assert body["parts"][1]["source"] == "man" and "recursively" in body["parts"][1]["description"]
    assert body["danger"] and body["syntax"]["ok"]
    assert list(tmp_path.iterdir()) == []  # explained, never run
    bad = client.post("/explain", json={"command": "   "})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_request"
    bad = client.post("/explain", json={"command": "ls", "summary": "nonsense"})
    assert bad.status_code in (400, 422)


def test_models_routes(client: httpx.Client) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["test-model"]
    assert client.get("/v1/models/test-model").json()["id"] == "test-model"
    missing = client.get("/v1/models/other")
    assert missing.status_code == 404 and error_of(missing)["code"] == "model_not_found"
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["running"] == 0 and health["capacity"] >= 1


def test_openapi_schema_lists_every_route(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/generate", "/explain", "/v1/completions", "/v1/chat/completions", "/v1/models", "/health"} <= set(
        schema["paths"]
    )
    assert "GenerateRequest" in schema["components"]["schemas"]


def test_completions_and_chat_whole(client: httpx.Client) -> None:
    r = client.post("/v1/completions", json={"model": "anything", "prompt": ["say hello"], **GREEDY})
    body = r.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["choices"][0]["text"] == "echo hello"
    assert body["choices"][0]["bash_ai"]["syntax"]["ok"] is True
    messages = [
        {"role": "system", "content": "You are a shell assistant."},
        {"role": "user", "content": "show the time"},
        {"role": "assistant", "content": "date"},
        {"role": "user", "content": [{"type": "text", "text": "say hello"}]},
    ]
    body = client.post("/v1/chat/completions", json={"messages": messages, **GREEDY}).json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "echo hello"}
    assert body["choices"][0]["finish_reason"] == "stop"


def _deltas(events: list[Any], index: int, chat: bool) -> str:
    pieces = []
    for event in events:
        for choice in event.get("choices", []) if isinstance(event, dict) else []:
            if choice["index"] == index:
                pieces.append(choice["delta"].get("content", "") if chat else choice["text"])
    return "".join(pieces)


def test_chat_stream_deltas_add_up_to_the_checked_answer(client: httpx.Client) -> None:
    body = {
        "messages": [{"role": "user", "content": "list files sorted by size"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        **GREEDY,
    }
    response, events = stream_post(client, "/v1/chat/completions", body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"content": "", "role": "assistant"}
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert len(chunks) > 3  # token by token, not one lump
    final = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(final) == 1 and final[0]["choices"][0]["bash_ai"]["text"] == "ls -S"
    assert _deltas(chunks, 0, chat=True) == "ls -S"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_completion_stream_with_several_choices(client: httpx.Client) -> None:
    body = {"prompt": "say hello", "n": 3, "temperature": 1.5, "seed": 3, "stream": True}
    _, events = stream_post(client, "/v1/completions", body)
    assert events[-1] == "[DONE]"
    finals = {c["choices"][0]["index"]: c["choices"][0] for c in events[:-1] if c["choices"][0]["finish_reason"]}
    assert sorted(finals) == [0, 1, 2]
    for index, choice in finals.items():
        assert _deltas(events[:-1], index, chat=False) == choice["bash_ai"]["text"]


def test_script_stream_sends_the_shaped_script(client: httpx.Client) -> None:
    body = {"prompt": "create backup script", "stream": True, **GREEDY}
    _, events = stream_post(client, "/v1/completions", body)
    text = _deltas(events[:-1], 0, chat=False)
    assert text.startswith("#!/usr/bin/env bash\n") and text.endswith("echo done\n")
    assert events[-2]["choices"][0]["bash_ai"]["kind"] == "script"


def test_openai_client_talks_to_the_server(url: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["test-model"]
    chat = client.chat.completions.create(
        model="test-model", messages=[{"role": "user", "content": "say hello"}], temperature=0
    )
    assert chat.choices[0].message.content == "echo hello"
    stream = client.chat.completions.create(
        model="test-model", messages=[{"role": "user", "content": "show the date"}], temperature=0, stream=True
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == "date"
    completion = client.completions.create(model="test-model", prompt="list files sorted by size", temperature=0)
    assert completion.choices[0].text == "ls -S"
    with pytest.raises(openai.BadRequestError, match="n is 99"):
        client.completions.create(model="test-model", prompt="say hello", n=99)


ROUTES = [
    ("GET", "/health", None),
    ("GET", "/v1/models", None),
    ("GET", "/openapi.json", None),
    ("GET", "/no-such-route", None),
    ("POST", "/generate", {"request": "say hello"}),
    ("POST", "/v1/completions", {"prompt": "say hello"}),
    ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "say hello"}]}),
]


def test_bearer_token_guards_every_route(engine: Any) -> None:
    with served(engine, api_key="s3cret-key") as base, httpx.Client(base_url=base, timeout=30) as c:
        for method, path, body in ROUTES:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-key"}):
                r = c.request(method, path, json=body, headers=headers)
                assert r.status_code == 401, (method, path, headers)
                assert error_of(r)["code"] == "invalid_api_key"
                assert r.headers["www-authenticate"] == "Bearer"
                assert "s3cret" not in r.text
            ok = c.request(method, path, json=body, headers={"Authorization": "Bearer s3cret-key"})
            assert ok.status_code == (404 if path == "/no-such-route" else 200), (path, ok.text)
    openai = pytest.importorskip("openai")
    with served(engine, api_key="s3cret-key") as base:
        good = openai.OpenAI(base_url=base + "/v1", api_key="s3cret-key", max_retries=0)
        assert good.models.list().data[0].id == "test-model"
        bad = openai.OpenAI(base_url=base + "/v1", api_key="nope", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "10.0.0.1", "127.0.0.1.evil.example", ":8765"])
def test_foreign_host_header_is_refused(client: httpx.Client, host: str) -> None:
    """DNS rebinding: a page whose own name now resolves to 127.0.0.1 sends its name as Host."""
    for method, path, body in ROUTES:
        r = client.request(method, path, json=body, headers={"Host": host})
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_host", (path, host)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8765", "127.0.0.1", "127.0.0.2:1", "[::1]:8765"])
def test_loopback_host_names_are_served(client: httpx.Client, host: str) -> None:
    assert client.get("/v1/models", headers={"Host": host}).status_code == 200


def test_http_10_without_host_is_served(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in reply


def test_host_check_is_off_when_not_bound_to_loopback(engine: Any) -> None:
    with served(engine, loopback_only=False) as base:
        assert httpx.get(base + "/v1/models", headers={"Host": "bash-ai.lan:8765"}).status_code == 200


def test_no_key_means_open(url: str) -> None:
    assert httpx.get(url + "/v1/models", headers={"Authorization": "Bearer whatever"}).status_code == 200


def test_stream_events_parse_cleanly(client: httpx.Client) -> None:
    """Every event is a single ``data:`` line of JSON; nothing else is on the wire."""
    body = {"prompt": "say hello", "stream": True, **GREEDY}
    with client.stream("POST", "/v1/completions", json=body) as response:
        raw = response.read().decode()
    blocks = [b for b in raw.split("\n\n") if b]
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    with client.stream("POST", "/v1/completions", json=body) as response:
        assert sse_events(response)[-1] == "[DONE]"


def test_a_batching_server_answers_as_an_unbatched_one(trained_model_dir: Path) -> None:
    """8 concurrent clients, sampled with seeds, on a server whose engine batches; the same
    requests one at a time on one that does not: the same candidates."""
    from concurrent.futures import ThreadPoolExecutor

    from bash_ai.engine.batcher import start_batching

    requests = ["say hello", "delete everything here", "make a marker file", "list files sorted by size"] * 2
    bodies = [{"request": r, "n": 2, "temperature": 0.9, "top_p": 0.95, "seed": i} for i, r in enumerate(requests)]

    def texts(base: str, concurrent: bool) -> list[list[str]]:
        with httpx.Client(base_url=base, timeout=60) as c:

            def one(body: dict[str, Any]) -> list[str]:
                r = c.post("/generate", json=body)
                assert r.status_code == 200, r.text
                return [cand["text"] for cand in r.json()["candidates"]]

            if not concurrent:
                return [one(b) for b in bodies]
            with ThreadPoolExecutor(len(bodies)) as pool:
                return list(pool.map(one, bodies))

    with served(load_engine(trained_model_dir)) as base:
        want = texts(base, concurrent=False)
    engine = load_engine(trained_model_dir)
    assert start_batching(engine, max_rows=32)
    with served(engine, workers=8) as base:
        assert texts(base, concurrent=True) == want
    assert engine.batcher.peak_rows >= 4  # requests were in the batch together
