"""The model directory format: round trip, strict loading, corrupt files, atomic replacement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from bash_ai.checkpoint import (
    CONFIG_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    expected_shapes,
    load_numpy_model,
    load_weights,
    random_weights,
    save_model_dir,
    save_weights,
)
from bash_ai.config import ModelConfig
from bash_ai.errors import CheckpointError, ModelError

CONFIG = ModelConfig(vocab_size=37, context_length=12, n_layer=2, n_head=4, n_kv_head=2, d_model=16)
UNTIED = CONFIG.replace(tie_embeddings=False, pos_encoding="rope")


class FileTokenizer:
    """Implements the one method the checkpoint needs from the real tokenizer: ``save(path)``."""

    def __init__(self, text: str = '{"kind": "test"}', fail: bool = False) -> None:
        self.text, self.fail = text, fail

    def save(self, path: Path) -> None:
        if self.fail:
            raise OSError("disk full")
        Path(path).write_text(self.text, encoding="utf-8")


def write_raw(directory: Path, config: ModelConfig, tensors: dict[str, np.ndarray]) -> Path:
    """A model dir written without validation, as a foreign or damaged tool might."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_FILE).write_text(json.dumps(config.to_dict()), encoding="utf-8")
    save_file(tensors, str(directory / WEIGHTS_FILE))
    return directory


def test_expected_shapes_count_matches_config() -> None:
    for config in (CONFIG, UNTIED, CONFIG.replace(pos_encoding="sinusoidal", n_kv_head=1)):
        shapes = expected_shapes(config)
        assert sum(int(np.prod(s)) for s in shapes.values()) == config.num_parameters()
        assert ("lm_head.weight" in shapes) == (not config.tie_embeddings)
        assert ("pos_emb.weight" in shapes) == (config.pos_encoding == "learned")
    assert expected_shapes(CONFIG)["blocks.1.attn.k_proj.weight"] == (8, 16)  # KVD = 2 heads * 4
    assert expected_shapes(CONFIG)["blocks.0.mlp.proj.weight"] == (16, 64)


def test_round_trip_with_tokenizer_and_metadata(tmp_path: Path) -> None:
    weights = random_weights(UNTIED, seed=3)
    out = save_model_dir(tmp_path / "m", UNTIED, weights, FileTokenizer("tok!"), metadata={"step": 7, "note": "x"})
    assert sorted(p.name for p in out.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE])
    assert (out / TOKENIZER_FILE).read_text() == "tok!"
    config, loaded = load_weights(out)
    assert config == UNTIED
    assert loaded.keys() == weights.keys()
    for name, array in weights.items():
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], array)
    with safe_open(str(out / WEIGHTS_FILE), framework="np") as handle:
        meta = handle.metadata()
    assert meta["format_version"] == "1" and meta["step"] == "7" and meta["note"] == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp dirs left behind


def test_float16_save_loads_as_float32(tmp_path: Path) -> None:
    weights = random_weights(CONFIG, seed=4)
    save_model_dir(tmp_path / "m", CONFIG, weights, dtype="float16")
    assert (tmp_path / "m" / WEIGHTS_FILE).stat().st_size < 0.6 * 4 * CONFIG.num_parameters()
    _, loaded = load_weights(tmp_path / "m")
    assert all(v.dtype == np.float32 for v in loaded.values())
    np.testing.assert_allclose(loaded["tok_emb.weight"], weights["tok_emb.weight"], atol=1e-4)
    with pytest.raises(CheckpointError, match="bfloat16"):
        save_model_dir(tmp_path / "q", CONFIG, weights, dtype="bfloat16")
    # The numpy runtime takes the float16 arrays as stored and converts each as it folds it: the
    # same runtime, bit for bit, as from the float32 copies.
    from bash_ai.checkpoint import load_numpy_model
    from bash_ai.model.numpy_gpt import NumpyGPT

    _, stored = load_weights(tmp_path / "m", float32=False)
    assert stored["tok_emb.weight"].dtype == np.float16
    direct, via_float32 = load_numpy_model(tmp_path / "m"), NumpyGPT(CONFIG, loaded)
    ids = np.array([[1, 5, 9, 2]])
    np.testing.assert_array_equal(
        direct.forward(ids, direct.new_cache(1)), via_float32.forward(ids, via_float32.new_cache(1))
    )


def test_tensors_sha256_names_the_tensors_not_the_files_bytes(tmp_path: Path) -> None:
    from bash_ai.checkpoint import tensors_sha256

    weights = random_weights(CONFIG, seed=3)
    meta = {f"key{i}": str(i) for i in range(8)}  # written in random order by safetensors
    digests = set()
    for name in "ab":
        save_weights(tmp_path / name, CONFIG, weights, "int8", meta)
        digests.add(tensors_sha256(tmp_path / name))
    assert len(digests) == 1
    weights["lm_head.weight" if "lm_head.weight" in weights else "tok_emb.weight"][0, 0] += 1.0
    save_weights(tmp_path / "c", CONFIG, weights, "int8", meta)
    assert tensors_sha256(tmp_path / "c") not in digests


def test_int8_stores_each_matrix_with_row_scales_and_loads_as_float32(tmp_path: Path) -> None:
    from bash_ai.checkpoint import SCALE_SUFFIX, stored_dtype

    config = CONFIG.replace(vocab_size=256, d_model=64)  # matrices large enough for the size to tell
    weights = random_weights(config, seed=5)
    weights["blocks.0.mlp.fc.weight"][3] = 0.0  # a row of zeros
    save_model_dir(tmp_path / "q", config, weights, dtype="int8")
    assert (tmp_path / "q" / WEIGHTS_FILE).stat().st_size < 0.3 * 4 * config.num_parameters()
    assert stored_dtype(tmp_path / "q") == "i8"
    with safe_open(str(tmp_path / "q" / WEIGHTS_FILE), framework="np") as handle:
        raw = {n: handle.get_tensor(n) for n in handle.keys()}  # noqa: SIM118
    assert raw["tok_emb.weight"].dtype == np.int8 and raw["tok_emb.weight" + SCALE_SUFFIX].dtype == np.float32
    assert raw["blocks.0.norm1.weight"].dtype == np.float32  # vectors stay as they are
    for float32 in (True, False):  # an int8 file's matrices come back float32 either way
        _, loaded = load_weights(tmp_path / "q", float32=float32)
        assert set(loaded) == set(weights) and all(v.dtype == np.float32 for v in loaded.values())
    for name, value in weights.items():
        if value.ndim == 2:
            half_step = np.abs(value).max(axis=1, keepdims=True) / 127 / 2
            assert np.all(np.abs(loaded[name] - value) <= half_step + 1e-7), name
            assert np.any(loaded[name] != value)  # rounded, not stored whole
        else:
            np.testing.assert_array_equal(loaded[name], value)
    assert not loaded["blocks.0.mlp.fc.weight"][3].any()
    # The runtime answers from the dequantized weights (close to float32, not equal).
    from bash_ai.model.numpy_gpt import NumpyGPT

    rounded, exact = load_numpy_model(tmp_path / "q"), NumpyGPT(config, weights)
    ids = np.array([[1, 5, 9, 2]])
    a, b = exact.forward(ids, exact.new_cache(1)), rounded.forward(ids, rounded.new_cache(1))
    assert 0 < np.abs(a - b).max() < 0.05 * np.abs(a).max()
    # A damaged file is one clear error: a matrix without its scales, scales without their matrix.
    del raw["tok_emb.weight" + SCALE_SUFFIX]
    write_raw(tmp_path / "bad", config, raw)
    with pytest.raises(CheckpointError, match=r"int8 tensor tok_emb.weight has no row scales of shape \(256,\)"):
        load_weights(tmp_path / "bad")
    raw["tok_emb.weight"] = weights["tok_emb.weight"]
    raw["blocks.0.norm1.weight" + SCALE_SUFFIX] = np.ones(64, np.float32)  # a vector is never int8
    write_raw(tmp_path / "bad2", config, raw)
    with pytest.raises(CheckpointError, match="row scales without an int8 tensor: blocks.0.norm1.weight"):
        load_weights(tmp_path / "bad2")


def test_missing_extra_and_misshaped_are_named(tmp_path: Path) -> None:
    weights = random_weights(CONFIG)
    del weights["blocks.1.attn.v_proj.weight"]
    weights["lm_head.weight"] = np.zeros((37, 16), np.float32)  # extra: the head is tied
    weights["blocks.0.attn.k_proj.weight"] = np.zeros((16, 16), np.float32)  # MHA-shaped, config is GQA
    directory = write_raw(tmp_path / "bad", CONFIG, weights)
    with pytest.raises(CheckpointError) as info:
        load_weights(directory)
    message = str(info.value)
    assert str(directory) in message
    assert "missing: blocks.1.attn.v_proj.weight" in message
    assert "extra: lm_head.weight" in message
    assert "wrong shape: blocks.0.attn.k_proj.weight (16, 16) (expected (8, 16))" in message
    assert "\n" not in message
    with pytest.raises(CheckpointError, match="missing: blocks.1.attn.v_proj.weight"):
        save_model_dir(tmp_path / "refused", CONFIG, weights)
    assert not (tmp_path / "refused").exists()


def test_untied_checkpoint_needs_its_head(tmp_path: Path) -> None:
    weights = random_weights(UNTIED)
    del weights["lm_head.weight"]
    with pytest.raises(CheckpointError, match=r"missing: lm_head\.weight"):
        load_weights(write_raw(tmp_path / "m", UNTIED, weights))


def test_long_lists_are_shortened(tmp_path: Path) -> None:
    big = CONFIG.replace(n_layer=4)
    directory = write_raw(tmp_path / "m", big, {"tok_emb.weight": np.zeros((37, 16), np.float32)})
    with pytest.raises(CheckpointError, match=r"and \d+ more"):
        load_weights(directory)


def test_explicit_config_overrides_the_directory(tmp_path: Path) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG))
    with pytest.raises(CheckpointError, match="extra: pos_emb.weight"):
        load_weights(tmp_path / "m", CONFIG.replace(pos_encoding="rope"))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "bad-header"])
def test_corrupt_weights_file(tmp_path: Path, damage: str) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG))
    path = tmp_path / "m" / WEIGHTS_FILE
    data = path.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "garbage": b"\x07" * 300,
        "empty": b"",
        "bad-header": data[:8] + b"[" + data[9:],
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(CheckpointError, match="corrupt or unreadable") as info:
        load_weights(tmp_path / "m")
    assert str(path) in str(info.value)


def test_missing_files_and_bad_config(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a model directory"):
        load_weights(tmp_path / "nowhere")
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG))
    (tmp_path / "m" / WEIGHTS_FILE).unlink()
    with pytest.raises(CheckpointError, match="model.safetensors not found"):
        load_weights(tmp_path / "m")
    (tmp_path / "m" / CONFIG_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointError, match="not a valid config.json"):
        load_weights(tmp_path / "m")
    (tmp_path / "m" / CONFIG_FILE).write_text('{"n_head": 5, "d_model": 16}', encoding="utf-8")
    with pytest.raises(ModelError, match="divisible"):
        load_weights(tmp_path / "m")


def test_integer_tensor_is_rejected(tmp_path: Path) -> None:
    weights = random_weights(CONFIG)
    weights["norm_f.weight"] = np.ones(16, np.int32)
    with pytest.raises(CheckpointError, match="norm_f.weight has dtype int32"):
        load_weights(write_raw(tmp_path / "m", CONFIG, weights))


def test_unknown_format_version_is_rejected(tmp_path: Path) -> None:
    weights = random_weights(CONFIG)
    directory = write_raw(tmp_path / "m", CONFIG, {})
    save_file(weights, str(directory / WEIGHTS_FILE), metadata={"format": "bash-ai", "format_version": "99"})
    with pytest.raises(CheckpointError, match="format_version '99'"):
        load_weights(directory)


def test_save_replaces_whole_directory_and_failure_keeps_old(tmp_path: Path) -> None:
    target = tmp_path / "m"
    save_model_dir(target, CONFIG, random_weights(CONFIG, seed=1), FileTokenizer())
    (target / "stale.txt").write_text("from an older save")
    new = random_weights(CONFIG, seed=2)
    save_model_dir(target, CONFIG, new)
    assert not (target / "stale.txt").exists() and not (target / TOKENIZER_FILE).exists()
    from bash_ai.io import current_umask

    # Not safetensors' 0600: the weights are as readable as every other file of the directory.
    assert (target / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~current_umask()
    np.testing.assert_array_equal(load_weights(target)[1]["tok_emb.weight"], new["tok_emb.weight"])

    with pytest.raises(OSError, match="disk full"):
        save_model_dir(target, CONFIG, random_weights(CONFIG, seed=9), FileTokenizer(fail=True))
    np.testing.assert_array_equal(load_weights(target)[1]["tok_emb.weight"], new["tok_emb.weight"])
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_staged_dir_swaps_in_whole_or_not_at_all(tmp_path: Path) -> None:
    from bash_ai.io import current_umask, staged_dir

    final, where = tmp_path / "out" / "d", tmp_path / "staging"
    with staged_dir(final, prefix=".d.partial-", where=where) as tmp:
        assert tmp.parent == where and tmp.name.startswith(".d.partial-") and not final.exists()
        (tmp / "a").write_text("1")
    assert (final / "a").read_text() == "1" and list(where.iterdir()) == []
    assert final.stat().st_mode & 0o777 == 0o777 & ~current_umask()  # not mkdtemp's 0700
    with pytest.raises(RuntimeError, match="half way"), staged_dir(final) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError("half way")
    assert [p.name for p in final.iterdir()] == ["a"] and [p.name for p in final.parent.iterdir()] == ["d"]


def test_load_numpy_model(tmp_path: Path) -> None:
    save_model_dir(tmp_path / "m", UNTIED, random_weights(UNTIED))
    model = load_numpy_model(tmp_path / "m")
    assert model.config == UNTIED
    assert model.forward(np.array([[1, 2]]), model.new_cache(1)).shape == (1, 2, 37)


def test_framework_glue_checks_names(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from bash_ai.checkpoint import load_into_torch, torch_state_to_numpy
    from bash_ai.model.torch_gpt import GPT

    model = GPT(CONFIG)
    weights = torch_state_to_numpy(torch.compile(model))  # unwraps the compile wrapper, compiles nothing
    assert weights.keys() == expected_shapes(CONFIG).keys()
    weights["lm_head.weight"] = weights["tok_emb.weight"]
    with pytest.raises(CheckpointError, match="extra: lm_head.weight"):
        load_into_torch(model, weights)


def test_tokenizer_file_name_agrees_with_the_tokenizer_module() -> None:
    tokenizer = pytest.importorskip("bash_ai.tokenizer")
    if not hasattr(tokenizer, "TOKENIZER_FILE"):
        pytest.skip("bash_ai.tokenizer has not landed yet")
    assert tokenizer.TOKENIZER_FILE == TOKENIZER_FILE
