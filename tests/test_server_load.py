"""A bounded load test: 200 requests from 8 concurrent clients, no failed, lost or crossed responses.

Latency and throughput are measured in benchmarks/bench_server.py, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from server_helpers import PacedEngine, load_engine, served, stream_post  # noqa: E402

REQUESTS = 200
CONCURRENCY = 8


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> Any:
    return load_engine(tiny_model_dir)


@pytest.fixture(scope="module")
def url(engine: Any) -> Iterator[str]:
    # The queue holds every client, so a correct server answers all of them (none turned away).
    with served(engine, workers=2, queue=CONCURRENCY) as base:
        yield base


def _one(client: httpx.Client, i: int) -> tuple[int, Any]:
    """Request ``i`` on one of four routes; returns (i, what it got back that identifies it)."""
    sampling = {"max_tokens": 12, "temperature": 1.0, "seed": i}
    kind = i % 4
    if kind == 0:
        r = client.post("/generate", json={"request": f"list files number {i}", **sampling})
        r.raise_for_status()
        body = r.json()
        assert body["candidates"] and all(c["syntax"]["ok"] in (True, False) for c in body["candidates"])
        return i, (body["request"], body["candidates"][0]["text"])
    if kind == 1:
        r = client.post("/v1/completions", json={"prompt": f"count lines {i}", **sampling})
        r.raise_for_status()
        body = r.json()
        assert body["object"] == "text_completion" and len(body["choices"]) == 1
        return i, body["id"]
    messages = [{"role": "user", "content": f"show disk usage {i}"}]
    if kind == 2:
        r = client.post("/v1/chat/completions", json={"messages": messages, **sampling})
        r.raise_for_status()
        return i, r.json()["id"]
    response, events = stream_post(client, "/v1/chat/completions", {"messages": messages, "stream": True, **sampling})
    response.raise_for_status()
    assert events[-1] == "[DONE]" and not any("error" in e for e in events[:-1])
    ids = {e["id"] for e in events[:-1]}
    assert len(ids) == 1
    return i, ids.pop()


def test_200_requests_8_concurrent_all_answered(url: str, engine: Any) -> None:
    from bash_ai.answer import answer
    from bash_ai.engine import SamplingParams

    limits = httpx.Limits(max_connections=CONCURRENCY)
    with httpx.Client(base_url=url, timeout=60, limits=limits) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda i: _one(client, i), range(REQUESTS)))
        health = client.get("/health").json()
    assert [i for i, _ in results] == list(range(REQUESTS))
    # /generate echoes its request, and its seeded answer is the one the engine gives alone:
    # each client got the answer to its own question, untouched by the generations beside it.
    for i, (echo, text) in (r for r in results if r[0] % 4 == 0):
        assert echo == f"list files number {i}"
        params = SamplingParams(temperature=1.0, seed=i, max_tokens=12)
        assert text == answer(engine, echo, 1, params)[0].text
    other_ids = [ident for i, ident in results if i % 4]
    assert len(set(other_ids)) == len(other_ids)
    assert health["running"] == 0


def test_overload_is_refused_not_lost(tiny_model_dir: Path) -> None:
    """With a small queue, every request is either answered or told 429: none vanishes."""
    paced = PacedEngine(load_engine(tiny_model_dir), delay=0.005)  # slow enough for clients to overlap
    with served(paced, workers=1, queue=1) as base, httpx.Client(base_url=base) as client:

        def post(i: int) -> Any:
            body = {"request": f"list files {i}", "max_tokens": 24, "temperature": 1.0}
            return client.post("/generate", json=body, timeout=60).status_code

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            codes = list(pool.map(post, range(48)))
    assert set(codes) == {200, 429} and codes.count(200) >= 2
