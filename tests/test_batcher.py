"""Continuous batching: concurrent streams share forward passes and answer exactly as alone."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from test_engine import TOK, numpy_engine

from bash_ai.engine import Finished, SamplingParams
from bash_ai.engine.batcher import start_batching
from bash_ai.engine.engine import Engine

CONFIGS = [
    {"pos_encoding": "rope"},
    {"pos_encoding": "learned"},
    {"pos_encoding": "sinusoidal", "n_kv_head": 1},
]


@pytest.mark.parametrize("overrides", CONFIGS, ids=lambda o: "-".join(map(str, o.values())))
def test_step_rows_equals_each_row_decoded_alone(overrides: dict[str, Any]) -> None:
    model = numpy_engine(**overrides).model
    rng = np.random.default_rng(0)
    prompts = [rng.integers(0, 250, size=length).tolist() for length in (3, 11, 7, 1)]
    alone = []
    for p in prompts:
        cache = model.new_cache(1)
        model.forward(np.array([p[:-1]], dtype=np.int64), cache) if len(p) > 1 else None
        alone.append(model.forward(np.array([[p[-1]]]), cache)[0, -1])  # (V,)
    slab = model.new_cache(len(prompts))
    for row, p in enumerate(prompts):
        cache = model.new_cache(1)
        if len(p) > 1:
            model.forward(np.array([p[:-1]], dtype=np.int64), cache)
        for layer in range(len(slab.k)):
            slab.k[layer][row, :, : len(p) - 1] = cache.k[layer][0, :, : len(p) - 1]
            slab.v[layer][row, :, : len(p) - 1] = cache.v[layer][0, :, : len(p) - 1]
    logits = model.step_rows(np.array([p[-1] for p in prompts]), slab, np.array([len(p) - 1 for p in prompts]))
    for row, want in enumerate(alone):
        np.testing.assert_allclose(logits[row], want, atol=1e-4)


def _answers(engine: Engine, jobs: list[tuple[str, SamplingParams, int]], concurrent: bool) -> list[Any]:
    out: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        prompt, params, n = jobs[i]
        out[i] = [(e.index, e.text, e.finish_reason, e.n_tokens) for e in engine.generate(prompt, params, n)]

    if not concurrent:
        for i in range(len(jobs)):
            run(i)
        return out
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_batched_answers_equal_unbatched_ones() -> None:
    """Different prompts, lengths, candidate counts and sampling settings, decoded at once.

    A batch's float sums differ from a lone row's in the last bits, so a draw lying within ~1e-6
    of a boundary could go the other way. Random weights give flat distributions over 259 byte
    tokens, where a top-k or top-p cut often falls between near-equal logits: those filters are
    checked on the trained model below, where distributions are peaked as in real use."""
    jobs = [
        ("ls -la", SamplingParams(temperature=0.9, seed=1, max_tokens=20), 3),
        ("find . -name", SamplingParams(temperature=0, max_tokens=12), 1),
        ("x", SamplingParams(temperature=1.2, seed=7, max_tokens=30), 2),
        ("grep -r TODO .", SamplingParams(temperature=0.7, repetition_penalty=1.3, seed=3, max_tokens=25), 4),
        ("echo", SamplingParams(temperature=0.8, seed=5, max_tokens=5, stop=("a",)), 2),
    ]
    alone = numpy_engine(pos_encoding="rope")
    want = _answers(alone, jobs, concurrent=False)
    batched = numpy_engine(pos_encoding="rope")
    assert start_batching(batched, max_rows=16)
    got = _answers(batched, jobs, concurrent=True)
    assert got == want
    assert batched.batcher is not None and batched.batcher.peak_rows > 4  # requests did share steps
    total_alone = sum(max(c[3] for c in answer) + 1 for answer in want)
    assert batched.batcher.steps < total_alone  # fewer forward passes than one request at a time


def test_the_trained_model_answers_the_same_batched(trained_model_dir: Any) -> None:
    from bash_ai.registry import load

    requests = ["say hello", "delete everything here", "list files sorted by size", "make a marker file"] * 2
    settings = [(0.8, 0, 0.95, 3), (1.0, 20, 1.0, 2), (0.0, 0, 1.0, 1), (1.3, 40, 0.9, 4)] * 2
    prompts = load(trained_model_dir)
    jobs = [
        (prompts.task_ids("ask", request), SamplingParams(temperature=t, top_k=k, top_p=p, seed=i, max_tokens=24), n)
        for i, (request, (t, k, p, n)) in enumerate(zip(requests, settings, strict=True))
    ]
    want = _answers(load(trained_model_dir), jobs, concurrent=False)
    engine = load(trained_model_dir)
    assert start_batching(engine, max_rows=32)
    for _ in range(3):  # the batch's make-up differs from run to run; the answers do not
        assert _answers(engine, jobs, concurrent=True) == want


def test_requests_wait_for_room_and_the_slab_is_reused() -> None:
    engine = numpy_engine(pos_encoding="learned")
    assert start_batching(engine, max_rows=4)
    jobs = [(f"ls {i}", SamplingParams(temperature=0.9, seed=i, max_tokens=15), 3) for i in range(6)]
    assert _answers(engine, jobs, concurrent=True) == _answers(numpy_engine(pos_encoding="learned"), jobs, False)
    assert engine.batcher is not None and engine.batcher.peak_rows <= 4 and engine.batcher.rows == 0


def test_a_cancelled_or_closed_stream_leaves_the_batch() -> None:
    engine = numpy_engine(pos_encoding="rope")
    assert start_batching(engine, max_rows=8)
    long = SamplingParams(temperature=1.0, seed=2, max_tokens=200)
    cancel = threading.Event()
    seen = []
    for event in engine.stream("ls", long, 2, cancel=cancel):
        seen.append(event)
        if len(seen) == 5:
            cancel.set()
    assert not any(isinstance(e, Finished) for e in seen)
    stream = engine.stream("ls", long, 2)
    next(stream), next(stream)
    stream.close()  # the consumer went away
    alone = numpy_engine(pos_encoding="rope")
    quick = SamplingParams(temperature=0.5, seed=9, max_tokens=10)
    assert _answers(engine, [("echo", quick, 1)], True) == _answers(alone, [("echo", quick, 1)], False)
    assert engine.batcher is not None
    deadline = threading.Event()
    for _ in range(100):  # the abandoned rows go at the worker's next step
        if engine.batcher.rows == 0:
            break
        deadline.wait(0.05)
    assert engine.batcher.rows == 0


def test_runtimes_without_step_rows_keep_decoding_alone() -> None:
    from test_engine import says

    engine = says("hello")
    assert not start_batching(engine) and engine.batcher is None
    assert TOK.decode(TOK.encode("ok")) == "ok"


def test_a_prompt_seen_lately_is_not_prefilled_again() -> None:
    """A resampling round repeats its request's prompt: the batcher reuses the prefill."""
    engine = numpy_engine(pos_encoding="rope")
    assert start_batching(engine, max_rows=8)
    first = SamplingParams(temperature=0.9, seed=1, max_tokens=8)
    second = SamplingParams(temperature=1.2, seed=2, max_tokens=8)
    want = _answers(numpy_engine(pos_encoding="rope"), [("ls -l", first, 2), ("ls -l", second, 3)], False)
    assert _answers(engine, [("ls -l", first, 2), ("ls -l", second, 3)], False) == want
    assert engine.batcher is not None and engine.batcher.prefills == 1
