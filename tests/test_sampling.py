"""The numpy sampler and the stop-string / UTF-8 text stream, on known distributions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bash_ai.engine import SamplingParams, TextStream, distribution, sample
from bash_ai.engine.sampling import apply_repetition_penalty, make_rng, top_p_filter
from bash_ai.errors import UsageError

PROBS = np.array([[0.5, 0.3, 0.15, 0.05]])


def test_greedy_is_argmax_per_row() -> None:
    logits = make_rng(0).normal(size=(5, 50)).astype(np.float32)
    out = sample(logits, SamplingParams(temperature=0), make_rng(1))
    assert out.tolist() == logits.argmax(axis=-1).tolist()


def test_top_k_one_equals_greedy_for_any_seed() -> None:
    logits = make_rng(3).normal(size=(8, 100)).astype(np.float32)
    for seed in range(5):
        out = sample(logits, SamplingParams(temperature=1.5, top_k=1, top_p=None), make_rng(seed))
        assert out.tolist() == logits.argmax(axis=-1).tolist()


def test_top_k_keeps_exactly_the_k_largest() -> None:
    logits = np.array([[0.1, 3.0, -1.0, 2.0, 0.5]])
    probs = distribution(logits, SamplingParams(temperature=1.0, top_k=2, top_p=None))
    assert set(np.flatnonzero(probs[0])) == {1, 3}
    expected = np.exp([3.0, 2.0]) / np.exp([3.0, 2.0]).sum()
    np.testing.assert_allclose(probs[0, [1, 3]], expected)


@pytest.mark.parametrize(("top_p", "kept"), [(0.4, {0}), (0.75, {0, 1}), (0.85, {0, 1, 2}), (1.0, {0, 1, 2, 3})])
def test_top_p_keeps_smallest_set_reaching_mass(top_p: float, kept: set[int]) -> None:
    filtered = top_p_filter(PROBS, top_p)
    assert set(np.flatnonzero(filtered[0])) == kept
    np.testing.assert_allclose(filtered[0, sorted(kept)], PROBS[0, sorted(kept)] / PROBS[0, sorted(kept)].sum())


def test_top_p_sampled_frequencies_match_the_filtered_distribution() -> None:
    logits = np.log(np.repeat(PROBS, 20000, axis=0))  # one row per draw
    params = SamplingParams(temperature=1.0, top_k=None, top_p=0.85)
    draws = sample(logits, params, make_rng(1234))
    freq = np.bincount(draws, minlength=4) / len(draws)
    assert freq[3] == 0
    np.testing.assert_allclose(freq[:3], PROBS[0, :3] / PROBS[0, :3].sum(), atol=0.015)


def test_temperature_sharpens_and_flattens() -> None:
    logits = np.log(PROBS)
    cold = distribution(logits, SamplingParams(temperature=0.5, top_k=None, top_p=None))
    hot = distribution(logits, SamplingParams(temperature=2.0, top_k=None, top_p=None))
    assert cold[0, 0] > PROBS[0, 0] > hot[0, 0]
    np.testing.assert_allclose(cold[0], PROBS[0] ** 2 / (PROBS[0] ** 2).sum())


def test_repetition_penalty_is_ctrl_style() -> None:
    logits = np.array([[2.0, -2.0, 1.0, 0.0]])
    seen = np.array([[True, True, False, True]])
    out = apply_repetition_penalty(logits, seen, 2.0)
    np.testing.assert_allclose(out, [[1.0, -4.0, 1.0, 0.0]])
    assert apply_repetition_penalty(logits, seen, 1.0) is logits


def test_repetition_penalty_changes_the_greedy_choice() -> None:
    logits = np.array([[2.0, 1.5, 0.0]])
    seen = np.array([[True, False, False]])
    params = SamplingParams(temperature=0, repetition_penalty=1.5)
    assert sample(logits, params, make_rng(0)).tolist() == [0]
    assert sample(logits, params, make_rng(0), seen).tolist() == [1]


def test_same_seed_same_draws_and_batches_are_vectorised() -> None:
    logits = make_rng(5).normal(size=(6, 300))
    params = SamplingParams(temperature=1.0, top_k=None, top_p=None, seed=9)
    a = [sample(logits, params, make_rng(9)).tolist() for _ in range(2)]
    b = sample(logits, params, make_rng(10)).tolist()
    assert a[0] == a[1]
    assert a[0] != b
    assert len(set(sample(np.zeros((64, 300)), params, make_rng(9)).tolist())) > 40


def test_zero_probability_tokens_are_never_drawn() -> None:
    logits = np.full((5000, 6), -np.inf)
    logits[:, 2] = 0.0
    logits[:, 4] = 0.0
    draws = sample(logits, SamplingParams(temperature=1.0, top_k=None, top_p=None), make_rng(0))
    assert set(draws.tolist()) == {2, 4}


@pytest.mark.parametrize(
    "changes",
    [
        {"temperature": -0.1},
        {"temperature": float("nan")},
        {"temperature": "hot"},
        {"top_k": -1},
        {"top_k": 2.5},
        {"top_p": 0.0},
        {"top_p": 1.5},
        {"repetition_penalty": 0},
        {"max_tokens": 0},
        {"max_tokens": True},
        {"stop": [""]},
        {"stop": [1]},
        {"stop": ["x"] * 17},
        {"seed": -1},
        {"seed": 1.0},
    ],
)
def test_bad_values_raise_usage_error(changes: dict) -> None:
    with pytest.raises(UsageError, match="invalid sampling parameters"):
        SamplingParams(**changes)


def test_params_are_frozen_and_normalise_stop() -> None:
    params = SamplingParams(stop=["\n", "done"])
    assert params.stop == ("\n", "done")
    assert SamplingParams(stop="x").stop == ("x",)
    assert params.with_stop("\n", "end").stop == ("\n", "done", "end")
    assert hash(params) == hash(SamplingParams(stop=("\n", "done")))
    with pytest.raises(AttributeError):
        params.temperature = 1.0  # type: ignore[misc]


# -- TextStream --------------------------------------------------------------------------------


def _feed_all(stream: TextStream, chunks: list[bytes]) -> list[str]:
    pieces = []
    for chunk in chunks:
        pieces.append(stream.feed(chunk))
        if stream.stopped:
            return pieces
    pieces.append(stream.flush())
    return pieces


def test_multibyte_character_split_across_tokens_is_emitted_whole() -> None:
    text = "é→🙂 ok"
    chunks = [bytes([b]) for b in text.encode()]
    stream = TextStream()
    pieces = _feed_all(stream, chunks)
    assert "".join(pieces) == text == stream.text
    assert all("\ufffd" not in p for p in pieces)
    assert [p for p in pieces if p] == ["é", "→", "🙂", " ", "o", "k"]


def test_dangling_bytes_become_one_replacement_at_the_end() -> None:
    stream = TextStream()
    assert stream.feed(b"a\xf0\x9f") == "a"
    assert stream.flush() == "\ufffd"


def test_stop_string_split_across_tokens_is_never_emitted() -> None:
    stream = TextStream(stop=["\nEND"])
    pieces = _feed_all(stream, [b"ls -la", b"\n", b"E", b"ND", b" more"])
    assert stream.stopped
    assert pieces == ["ls -la", "", "", ""]
    assert stream.text == "ls -la"


def test_false_start_of_stop_string_is_released() -> None:
    stream = TextStream(stop=["\nEND"])
    pieces = _feed_all(stream, [b"a\n", b"EN", b"x", b"\nE"])
    assert pieces == ["a", "", "\nENx", "", "\nE"]  # the last piece comes from flush()
    assert not stream.stopped
    assert stream.text == "a\nENx\nE"


def test_first_completed_stop_string_wins_whatever_the_token_boundaries() -> None:
    for chunks in ([b"xa", b"bc"], [b"xabc"], [b"x", b"a", b"b", b"c"]):
        stream = TextStream(stop=["abc", "b"])
        _feed_all(stream, chunks)
        assert stream.text == "xa"  # "b" completes before "abc" would
    stream = TextStream(stop=["0", "100"])
    _feed_all(stream, [b"100"])
    assert stream.text == "1"


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(min_size=0, max_size=40),
    stop=st.lists(st.text(min_size=1, max_size=4), max_size=3),
    cuts=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=50),
)
def test_stream_matches_reference_split(text: str, stop: list[str], cuts: list[int]) -> None:
    data = text.encode()
    chunks, i, k = [], 0, 0
    while i < len(data):
        step = cuts[k % len(cuts)]
        chunks.append(data[i : i + step])
        i, k = i + step, k + 1
    stream = TextStream(stop=stop)
    released = ""
    for chunk in chunks:
        released += stream.feed(chunk)
        # Whatever was released is final: it never contains (the start of) a completed stop string.
        assert not any(s in released for s in stop)
        if stream.stopped:
            break
    released += stream.flush()
    # Reference: text arriving one character at a time, cut where a stop string first completes.
    expected, stopped = text, False
    for m in range(1, len(text) + 1):
        hits = [j for s in stop if (j := text[:m].find(s)) >= 0]
        if hits:
            expected, stopped = text[: min(hits)], True
            break
    assert released == stream.text == expected
    assert stream.stopped == stopped


@pytest.mark.parametrize("scale", [8.0, 0.1])  # peaked: the nucleus fits the probe; flat: full sort
@pytest.mark.parametrize("top_k", [None, 50])
def test_fast_paths_equal_the_reference_filters(scale: float, top_k: int | None) -> None:
    logits = make_rng(7).normal(size=(3, 2000)) * scale
    params = SamplingParams(temperature=0.8, top_k=top_k, top_p=0.9)
    x = logits / 0.8
    if top_k is not None:  # reference: mask all but the k largest, softmax, then nucleus
        kth = np.sort(x, axis=-1)[:, -top_k][:, None]
        x = np.where(x >= kth, x, -np.inf)
    ref = np.exp(x - x.max(axis=-1, keepdims=True))
    ref = top_p_filter(ref / ref.sum(axis=-1, keepdims=True), 0.9)
    np.testing.assert_allclose(distribution(logits, params), ref, atol=1e-12)
    draws = sample(np.repeat(logits[:1], 500, axis=0), params, make_rng(0))
    assert ref[0, draws].min() > 0  # only kept tokens are ever drawn
