"""The numpy runtime: KV-cached decode equals a full forward, cache repeat/select, no framework import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bash_ai.checkpoint import random_weights, save_model_dir
from bash_ai.config import ModelConfig, NormKind, PosEncoding
from bash_ai.errors import GenerationError
from bash_ai.model.numpy_gpt import NumpyGPT
from bash_ai.model.positions import rope_tables, sinusoidal_table

REPO_ROOT = Path(__file__).resolve().parents[1]


def make(
    pos: PosEncoding = "rope", n_kv_head: int = 2, tie: bool = True, norm: NormKind = "layernorm", seed: int = 0
) -> NumpyGPT:
    config = ModelConfig(
        vocab_size=61, context_length=24, n_layer=2, n_head=4, n_kv_head=n_kv_head, d_model=32,
        pos_encoding=pos, tie_embeddings=tie, norm=norm,
    )  # fmt: skip
    return NumpyGPT(config, random_weights(config, seed=seed, std=0.3, norm_std=0.2))


def full(model: NumpyGPT, ids: np.ndarray) -> np.ndarray:
    return model.forward(ids, model.new_cache(ids.shape[0]))


VARIANTS = [
    dict(pos="learned", n_kv_head=4, tie=True, norm="layernorm"),
    dict(pos="sinusoidal", n_kv_head=1, tie=False, norm="rmsnorm"),
    dict(pos="rope", n_kv_head=2, tie=True, norm="rmsnorm"),
    dict(pos="rope", n_kv_head=1, tie=False, norm="layernorm"),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_incremental_decode_equals_full_forward(variant: dict) -> None:
    model = make(**variant)
    ids = np.random.default_rng(1).integers(0, 61, size=(2, 20))
    reference = full(model, ids)  # (2, 20, V)
    cache = model.new_cache(2)
    pieces = [model.forward(ids[:, :7], cache)]  # prefill of 7, then chunks of 1, 1, 3, then singles
    for lo, hi in [(7, 8), (8, 9), (9, 12)] + [(i, i + 1) for i in range(12, 20)]:
        pieces.append(model.forward(ids[:, lo:hi], cache))
    assert cache.length == 20
    got = np.concatenate(pieces, axis=1)
    assert got.dtype == np.float32 and got.shape == (2, 20, 61)
    np.testing.assert_allclose(got, reference, atol=1e-5, rtol=0)


def test_last_only_and_batch_rows_independent() -> None:
    model = make()
    ids = np.random.default_rng(2).integers(0, 61, size=(3, 9))
    logits = full(model, ids)
    last = model.forward(ids, model.new_cache(3), last_only=True)
    assert last.shape == (3, 1, 61)
    np.testing.assert_allclose(last, logits[:, -1:], atol=1e-6, rtol=0)
    for row in range(3):
        np.testing.assert_allclose(full(model, ids[row : row + 1])[0], logits[row], atol=1e-5, rtol=0)


def test_positions_change_the_output() -> None:
    # A position-blind model would give equal last logits for these two orderings.
    for pos in ("learned", "sinusoidal", "rope"):
        model = make(pos=pos)  # type: ignore[arg-type]
        a = full(model, np.array([[5, 9, 13, 2]]))[0, -1]
        b = full(model, np.array([[9, 5, 13, 2]]))[0, -1]
        assert np.abs(a - b).max() > 1e-3, pos


def test_cache_repeat_shares_one_prefill() -> None:
    model = make(pos="rope", n_kv_head=2)
    prompt = np.array([[3, 14, 15, 9, 26]])
    cache = model.new_cache(1)
    model.forward(prompt, cache)
    wide = cache.repeat(3)
    assert wide.batch == 3 and wide.length == 5 and cache.batch == 1
    nexts = np.array([[7], [8], [9]])
    got = model.forward(nexts, wide)  # (3, 1, V)
    more = model.forward(np.array([[1], [2], [3]]), wide)
    for row in range(3):
        seq = np.concatenate([prompt[0], nexts[row], [row + 1]])[None]
        ref = full(model, seq)
        np.testing.assert_allclose(got[row, 0], ref[0, 5], atol=1e-5, rtol=0)
        np.testing.assert_allclose(more[row, 0], ref[0, 6], atol=1e-5, rtol=0)
    # The original cache is untouched by the repeated one's growth.
    assert cache.length == 5
    step = model.forward(np.array([[8]]), cache)
    np.testing.assert_allclose(step[0, 0], got[1, 0], atol=1e-6, rtol=0)


def test_cache_select_reorders_rows() -> None:
    model = make()
    ids = np.array([[1, 2, 3], [4, 5, 6]])
    cache = model.new_cache(2)
    model.forward(ids, cache)
    swapped = cache.select([1, 0])
    out = model.forward(np.array([[7], [7]]), swapped)
    ref = full(model, np.array([[4, 5, 6, 7], [1, 2, 3, 7]]))
    np.testing.assert_allclose(out[:, 0], ref[:, -1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_fanned_out_rows_share_the_prompt_without_copying_it(variant: dict) -> None:
    model = make(**variant)
    rng = np.random.default_rng(4)
    prompt = rng.integers(0, 61, size=(1, 9))
    cache = model.new_cache(1)
    model.forward(prompt, cache)
    beams = cache.select([0, 0, 0])  # a beam's first step: every row continues the prompt
    assert beams.prefix is not None and beams.shared == 9
    assert np.shares_memory(beams.prefix[0][0], cache.k[0])  # read in place, not copied
    steps = rng.integers(0, 61, size=(3, 4))
    got = [model.forward(steps[:, :2], beams)]
    reordered = beams.select([2, 0, 0])  # a later step: parents reorder, the prefix stays shared
    assert reordered.prefix is beams.prefix and reordered.shared == 9
    got.append(model.forward(steps[:, 2:], reordered))
    assert reordered.length == 13
    for row, parent in enumerate([2, 0, 0]):
        seq = np.concatenate([prompt[0], steps[parent, :2], steps[row, 2:]])[None]
        ref = full(model, seq)[0]
        np.testing.assert_allclose(got[0][parent], ref[9:11], atol=1e-5, rtol=0)
        np.testing.assert_allclose(got[1][row], ref[11:13], atol=1e-5, rtol=0)
        for layer in range(2):
            check = model.new_cache(1)
            model.forward(seq, check)
            # The row's keys: the shared prefix's, then its own from position 9 on.
            keys = np.concatenate([reordered.prefix[0][layer][0], reordered.k[layer][row, :, 9:13]], axis=1)
            np.testing.assert_allclose(keys, check.k[layer][0, :, :13], atol=1e-5, rtol=0)
    # Rows of one prompt extend it side by side; the prompt's own cache is as it was.
    assert cache.length == 9 and cache.prefix is None
    with pytest.raises(GenerationError, match="shared prefix"):
        model.step_rows(np.array([1, 2, 3]), reordered, np.array([13, 13, 13]))


def test_packed_rows_equal_separate_rows() -> None:
    # Two continuations side by side in one row after a prompt, each at its own positions and
    # blind to the other, give the logits each has alone.
    for variant in VARIANTS:
        model = make(**variant)  # type: ignore[arg-type]
        prompt = np.array([[3, 14, 15, 9]])
        a, b = [5, 2, 8], [7, 1]
        cache = model.new_cache(1)
        model.forward(prompt, cache)
        positions = np.array([4, 5, 6, 4, 5])
        owner = np.array([0, 0, 0, 1, 1])
        visible = (owner[:, None] == owner[None, :]) & (positions[:, None] >= positions[None, :])
        got = model.forward(np.array([a + b]), cache, positions=positions, visible=visible)[0]
        np.testing.assert_allclose(got[:3], full(model, np.array([[3, 14, 15, 9, *a]]))[0, 4:], atol=1e-5, rtol=0)
        np.testing.assert_allclose(got[3:], full(model, np.array([[3, 14, 15, 9, *b]]))[0, 4:], atol=1e-5, rtol=0)
    with pytest.raises(GenerationError, match="positions"):
        model.forward(np.array([[1, 2]]), model.new_cache(1), positions=np.array([0, 24]))


def test_context_overflow_and_bad_shapes_raise() -> None:
    model = make()
    cache = model.new_cache(1)
    model.forward(np.zeros((1, 20), dtype=np.int64), cache)
    with pytest.raises(GenerationError, match="context of 24"):
        model.forward(np.zeros((1, 5), dtype=np.int64), cache)
    with pytest.raises(GenerationError, match="shape"):
        model.forward(np.zeros(3, dtype=np.int64), model.new_cache(1))
    with pytest.raises(GenerationError, match="batch"):
        model.forward(np.zeros((2, 1), dtype=np.int64), model.new_cache(1))


def test_position_tables_known_values() -> None:
    pe = sinusoidal_table(5, 6)
    assert pe[1, 0] == pytest.approx(np.sin(1.0)) and pe[1, 1] == pytest.approx(np.cos(1.0))
    assert pe[3, 2] == pytest.approx(np.sin(3 / 10000 ** (2 / 6)))
    assert pe[3, 5] == pytest.approx(np.cos(3 / 10000 ** (4 / 6)))
    assert sinusoidal_table(4, 5)[2, 4] == pytest.approx(np.sin(2 / 10000 ** (4 / 5)))  # odd width
    cos, sin = rope_tables(4, 4, 100.0)
    # Frequencies 1 and 1/10, repeated over the two halves (rotate-half layout).
    assert cos[3, 0] == pytest.approx(np.cos(3.0)) and cos[3, 2] == pytest.approx(np.cos(3.0))
    assert sin[2, 1] == pytest.approx(np.sin(0.2)) and sin[2, 3] == pytest.approx(np.sin(0.2))


def test_cli_runtime_imports_no_framework(tmp_path: Path) -> None:
    config = ModelConfig(
        vocab_size=40, context_length=16, n_layer=1, n_head=2, n_kv_head=1, d_model=16, pos_encoding="rope"
    )
    save_model_dir(tmp_path / "model", config, random_weights(config))
    code = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from bash_ai.checkpoint import load_numpy_model
        import bash_ai.model.numpy_gpt
        model = load_numpy_model({str(tmp_path / "model")!r})
        logits = model.forward(np.array([[1, 2, 3]]), model.new_cache(1))
        assert logits.shape == (1, 3, 40), logits.shape
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "mlx"))
        print("HEAVY:" + ",".join(heavy))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "HEAVY:\n" in done.stdout, done.stdout


def test_linear_equals_the_plain_product_for_every_row_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 8 output rows: 37 outputs take five blocks, the last a short one.
    from bash_ai.model import numpy_gpt

    monkeypatch.setattr(numpy_gpt, "BLOCK_BYTES", 8 * 4 * 24)
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((37, 24)).astype(np.float32)
    for n in range(1, 13):
        x = rng.standard_normal((n, 24)).astype(np.float32)
        got = numpy_gpt._linear(x, weight)
        assert got.shape == (n, 37)
        np.testing.assert_allclose(got, x.astype(np.float64) @ weight.T.astype(np.float64), atol=1e-4, rtol=0)
