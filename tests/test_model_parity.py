"""Torch, MLX and numpy implement one architecture: same weight names, same logits (fp32, 1e-4)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bash_ai.checkpoint import (
    expected_shapes,
    load_into_mlx,
    load_into_torch,
    load_numpy_model,
    load_weights,
    mlx_params_to_numpy,
    random_weights,
    save_model_dir,
    torch_state_to_numpy,
)
from bash_ai.config import ModelConfig, NormKind, PosEncoding
from bash_ai.errors import CheckpointError

torch = pytest.importorskip("torch")
mx = pytest.importorskip("mlx.core")

from bash_ai.model import mlx_gpt, torch_gpt  # noqa: E402
from bash_ai.model.numpy_gpt import NumpyGPT  # noqa: E402
from bash_ai.model.positions import rope_tables  # noqa: E402

TOL = 1e-4


def config(pos: PosEncoding, n_kv_head: int, tie: bool, norm: NormKind) -> ModelConfig:
    return ModelConfig(
        vocab_size=53, context_length=20, n_layer=2, n_head=4, n_kv_head=n_kv_head, d_model=32,
        pos_encoding=pos, tie_embeddings=tie, norm=norm,
    )  # fmt: skip


CONFIGS = [
    config("learned", 4, True, "layernorm"),
    config("learned", 2, False, "rmsnorm"),
    config("sinusoidal", 1, True, "rmsnorm"),
    config("sinusoidal", 2, False, "layernorm"),
    config("rope", 2, True, "layernorm"),
    config("rope", 1, False, "rmsnorm"),
    config("rope", 4, False, "layernorm"),
]
IDS = [f"{c.pos_encoding}-kv{c.n_kv_head}-{'tied' if c.tie_embeddings else 'untied'}-{c.norm}" for c in CONFIGS]


def torch_logits(model: torch_gpt.GPT, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids))[0].numpy()


def mlx_logits(model: mlx_gpt.GPT, ids: np.ndarray) -> np.ndarray:
    return np.array(model(mx.array(ids)))


def tokens(seed: int, batch: int = 2, t: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 53, size=(batch, t))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_parameter_names_are_the_spec(cfg: ModelConfig) -> None:
    spec = expected_shapes(cfg)
    t_model = torch_gpt.GPT(cfg)
    state = t_model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == spec  # no buffers, no tied head
    assert t_model.num_parameters() == cfg.num_parameters()
    m_model = mlx_gpt.GPT(cfg)
    assert {k: tuple(v.shape) for k, v in mlx_gpt.flat_parameters(m_model).items()} == spec
    assert m_model.num_parameters() == cfg.num_parameters()


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_three_runtimes_agree_through_a_checkpoint(cfg: ModelConfig, tmp_path: Path) -> None:
    # Large random weights make attention sharp and positions matter, so a mismatch shows.
    save_model_dir(tmp_path / "m", cfg, random_weights(cfg, seed=5, std=0.3, norm_std=0.3))
    _, weights = load_weights(tmp_path / "m")
    t_model = torch_gpt.GPT(cfg)
    load_into_torch(t_model, weights)
    m_model = mlx_gpt.GPT(cfg)
    load_into_mlx(m_model, weights)
    n_model = load_numpy_model(tmp_path / "m")

    ids = tokens(6)
    reference = torch_logits(t_model, ids)
    assert np.abs(reference).max() > 1.0  # not a degenerate near-zero model
    np.testing.assert_allclose(mlx_logits(m_model, ids), reference, atol=TOL, rtol=0)
    np.testing.assert_allclose(n_model.forward(ids, n_model.new_cache(2)), reference, atol=TOL, rtol=0)

    # KV-cached decode in numpy and in the torch adapter equals the full forward.
    adapter = torch_gpt.TorchLogitsModel(t_model)
    runtimes: list[Any] = [n_model, adapter]
    for runtime in runtimes:
        cache = runtime.new_cache(2)
        steps = [runtime.forward(ids[:, :11], cache)] + [
            runtime.forward(ids[:, i : i + 1], cache) for i in range(11, 20)
        ]
        np.testing.assert_allclose(np.concatenate(steps, axis=1), reference, atol=TOL, rtol=0)
        # Both caches fan out one prefill: rows (0, 0, 1) continue the two prompts.
        cache = runtime.new_cache(2)
        runtime.forward(ids[:, :10], cache)
        fanned = cache.repeat(2).select([0, 1, 2])
        out = runtime.forward(ids[[0, 0, 1], 10:12], fanned)
        np.testing.assert_allclose(out, reference[[0, 0, 1], 10:12], atol=TOL, rtol=0)


@pytest.mark.parametrize("cfg", [CONFIGS[1], CONFIGS[5]], ids=[IDS[1], IDS[5]])
def test_mlx_trained_weights_load_into_torch_and_back(cfg: ModelConfig, tmp_path: Path) -> None:
    ids = tokens(7, batch=1, t=12)
    m_model = mlx_gpt.GPT(cfg)  # its own init, saved from MLX
    save_model_dir(tmp_path / "from_mlx", cfg, mlx_params_to_numpy(m_model))
    t_model = torch_gpt.GPT(cfg)
    load_into_torch(t_model, load_weights(tmp_path / "from_mlx")[1])
    np.testing.assert_allclose(torch_logits(t_model, ids), mlx_logits(m_model, ids), atol=TOL, rtol=0)

    t_other = torch_gpt.GPT(cfg)  # and a torch init, saved from torch, into MLX
    save_model_dir(tmp_path / "from_torch", cfg, torch_state_to_numpy(t_other))
    m_other = mlx_gpt.GPT(cfg)
    load_into_mlx(m_other, load_weights(tmp_path / "from_torch")[1])
    np.testing.assert_allclose(mlx_logits(m_other, ids), torch_logits(t_other, ids), atol=TOL, rtol=0)
    weights = mlx_params_to_numpy(m_other)
    for name, array in torch_state_to_numpy(t_other).items():
        np.testing.assert_array_equal(weights[name], array)


def test_mlx_loader_names_bad_tensors() -> None:
    cfg = CONFIGS[0]
    weights = random_weights(cfg)
    del weights["norm_f.weight"]
    with pytest.raises(CheckpointError, match=r"missing: norm_f\.weight"):
        load_into_mlx(mlx_gpt.GPT(cfg), weights)


def test_masked_loss_equals_manual_cross_entropy() -> None:
    cfg = CONFIGS[4]
    model = torch_gpt.GPT(cfg)
    load_into_torch(model, random_weights(cfg, seed=8, std=0.3))
    x = torch.from_numpy(tokens(9, batch=3, t=10))
    y = torch.from_numpy(tokens(10, batch=3, t=10))
    mask = torch.from_numpy(np.random.default_rng(11).random((3, 10)) < 0.4)
    logits, loss = model(x, y, mask)
    logp = torch.log_softmax(logits.double(), dim=-1)
    picked = -logp.gather(-1, y[..., None])[..., 0]  # (B, T)
    manual = picked[mask].mean()
    assert loss is not None and abs(float(loss) - float(manual)) < 1e-5
    _, full_loss = model(x, y)
    assert full_loss is not None and abs(float(full_loss) - float(picked.mean())) < 1e-5
    _, none = model(x, y, torch.zeros(3, 10, dtype=torch.bool))
    assert none is not None and float(none) == 0.0  # no NaN when nothing is supervised
    _, float_mask = model(x, y, mask.float())
    assert float_mask is not None and abs(float(float_mask) - float(loss)) < 1e-6


def test_tied_head_shares_the_embedding_and_gets_gradients() -> None:
    model = torch_gpt.GPT(CONFIGS[0])
    x = torch.from_numpy(tokens(12, batch=1, t=5))
    _, loss = model(x, x)
    assert loss is not None
    loss.backward()
    grad = model.tok_emb.weight.grad
    assert grad is not None
    assert int((grad.abs().sum(dim=1) > 0).sum()) > 5  # rows beyond the 5 inputs: the head's gradient


def test_init_scales() -> None:
    cfg = ModelConfig(vocab_size=512, n_layer=8, d_model=128, n_head=4, n_kv_head=4)
    residual = 0.02 / math.sqrt(2 * cfg.n_layer)
    t_model = torch_gpt.GPT(cfg)
    weights = {"torch": torch_state_to_numpy(t_model), "mlx": mlx_params_to_numpy(mlx_gpt.GPT(cfg))}
    for name, w in weights.items():
        assert abs(w["tok_emb.weight"].std() - 0.02) < 0.002, name
        assert abs(w["blocks.3.attn.q_proj.weight"].std() - 0.02) < 0.002, name
        assert abs(w["blocks.3.attn.o_proj.weight"].std() - residual) < 0.001, name
        assert abs(w["blocks.3.mlp.proj.weight"].std() - residual) < 0.001, name
        assert np.all(w["blocks.3.norm2.weight"] == 1.0), name


def test_mlx_fast_rope_is_rotate_half() -> None:
    d, theta = 8, 500.0
    x = np.random.default_rng(13).standard_normal((1, 2, 6, d)).astype(np.float32)  # (B, H, T, D)
    got = np.array(mx.fast.rope(mx.array(x), d, traditional=False, base=theta, scale=1.0, offset=0))
    cos, sin = rope_tables(6, d, theta)
    rotated = np.concatenate([-x[..., d // 2 :], x[..., : d // 2]], axis=-1)
    np.testing.assert_allclose(got, x * cos + rotated * sin, atol=1e-5, rtol=0)


def test_gelu_is_the_tanh_form() -> None:
    from bash_ai.model.numpy_gpt import _gelu_tanh_2x

    x = np.linspace(-6, 6, 101, dtype=np.float32)
    want = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(np.array(mlx_gpt.gelu_tanh(mx.array(x))), want, atol=1e-5)
    np.testing.assert_allclose(0.5 * _gelu_tanh_2x(x.copy()), want, atol=1e-5)
    got = torch.nn.functional.gelu(torch.from_numpy(x), approximate="tanh").numpy()  # what torch_gpt.MLP uses
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_numpy_runtime_accepts_float16_checkpoint(tmp_path: Path) -> None:
    cfg = CONFIGS[4]
    weights = random_weights(cfg, seed=14, std=0.3)
    save_model_dir(tmp_path / "m", cfg, weights, dtype="float16")
    model = NumpyGPT(cfg, {k: v.astype(np.float16).astype(np.float32) for k, v in weights.items()})
    ids = tokens(15, batch=1, t=6)
    np.testing.assert_allclose(
        load_numpy_model(tmp_path / "m").forward(ids, model.new_cache(1)),
        model.forward(ids, model.new_cache(1)),
        atol=1e-6,
    )
