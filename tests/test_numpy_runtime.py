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
