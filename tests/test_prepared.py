"""Prepared weights (bash_ai.model.prepared): the runtime's folded float32 matrices cached in the
user's cache dir and memory-mapped at the next load, never stale, never in the way."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bash_ai.checkpoint import load_numpy_model, random_weights, save_model_dir
from bash_ai.config import ModelConfig
from bash_ai.engine.structure import Structure, save_structure
from bash_ai.model.numpy_gpt import NumpyGPT
from bash_ai.model.prepared import KEEP, SUFFIX, prepared_dir, read_prepared, write_prepared
from bash_ai.model_files import TOKENIZER_FILE, WEIGHTS_FILE

CONFIG = ModelConfig(
    vocab_size=37, context_length=16, d_model=16, n_layer=2, n_head=2, n_kv_head=1, tie_embeddings=False
)
IDS = np.array([[1, 5, 9, 2]])


def _logits(model: NumpyGPT) -> np.ndarray:
    return model.forward(IDS, model.new_cache(1))


def _prepared_files() -> list[Path]:
    return sorted(prepared_dir().glob(f"*{SUFFIX}")) if prepared_dir().is_dir() else []


def _is_mapped(model: NumpyGPT) -> bool:
    """Whether the model's matrices are read-only views of a file (not arrays built in memory)."""
    arrays = model.prepared_arrays()
    assert arrays is not None
    return all(not a.flags.writeable and not a.flags.owndata for a in arrays.values())


def test_the_second_load_maps_the_prepared_file_and_answers_the_same(tmp_path: Path) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG, seed=1), dtype="int8")
    first = load_numpy_model(tmp_path / "m")
    assert not _is_mapped(first) and len(_prepared_files()) == 1
    second = load_numpy_model(tmp_path / "m")
    assert _is_mapped(second)
    np.testing.assert_array_equal(_logits(second), _logits(first))  # the same float32 numbers
    # a decode runs on read-only weights: nothing in the runtime writes them
    cache = second.new_cache(2)
    second.forward(np.array([[3, 4], [5, 6]]), cache)
    second.step_rows(np.array([7, 8]), cache, np.array([2, 2]))


def test_a_weights_file_rewritten_in_place_is_never_answered_from_the_old_prepared_copy(tmp_path: Path) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG, seed=1))
    old = _logits(load_numpy_model(tmp_path / "m"))
    save_model_dir(tmp_path / "n", CONFIG, random_weights(CONFIG, seed=2))
    weights, stat = tmp_path / "m" / WEIGHTS_FILE, (tmp_path / "m" / WEIGHTS_FILE).stat()
    replacement = (tmp_path / "n" / WEIGHTS_FILE).read_bytes()
    assert len(replacement) == stat.st_size
    with open(weights, "r+b") as handle:  # same inode, same size, and the old modification time
        handle.write(replacement)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    new = load_numpy_model(tmp_path / "m")
    assert not _is_mapped(new)
    np.testing.assert_array_equal(_logits(new), _logits(NumpyGPT(CONFIG, random_weights(CONFIG, seed=2))))
    assert not np.allclose(_logits(new), old, atol=1e-3)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other key"])
def test_a_damaged_prepared_file_is_rebuilt(tmp_path: Path, damage: str) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG, seed=3))
    good = _logits(load_numpy_model(tmp_path / "m"))
    (path,) = _prepared_files()
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) - 64])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    else:
        write_prepared(path, "another model's key", load_numpy_model(tmp_path / "m").prepared_arrays() or {})
    rebuilt = load_numpy_model(tmp_path / "m")
    assert not _is_mapped(rebuilt)
    np.testing.assert_array_equal(_logits(rebuilt), good)
    assert _is_mapped(load_numpy_model(tmp_path / "m"))  # written anew


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    save_model_dir(tmp_path / "m", CONFIG, random_weights(CONFIG, seed=4))
    prepared_dir().parent.mkdir(parents=True, exist_ok=True)
    prepared_dir().write_text("a file where the cache's folder should be")
    for _ in range(2):
        model = load_numpy_model(tmp_path / "m")
        assert not _is_mapped(model) and model.forward(IDS, model.new_cache(1)).shape == (1, 4, 37)


def test_the_cache_keeps_the_newest_files_only(tmp_path: Path) -> None:
    for seed in range(KEEP + 2):
        save_model_dir(tmp_path / f"m{seed}", CONFIG, random_weights(CONFIG, seed=seed))
        load_numpy_model(tmp_path / f"m{seed}")
    assert len(_prepared_files()) == KEEP
    assert _is_mapped(load_numpy_model(tmp_path / f"m{KEEP + 1}"))  # the newest survived
    assert not _is_mapped(load_numpy_model(tmp_path / "m0"))  # the oldest was dropped


def test_a_prepared_file_round_trips_and_refuses_a_wrong_key(tmp_path: Path) -> None:
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones((5,), np.float32)}
    write_prepared(tmp_path / "x.f32", "k", arrays)
    back = read_prepared(tmp_path / "x.f32", "k")
    assert back is not None and back.keys() == arrays.keys()
    for name, array in arrays.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].ctypes.data % 64 == 0  # each array aligned for SIMD loads
    assert read_prepared(tmp_path / "x.f32", "other") is None
    assert read_prepared(tmp_path / "missing.f32", "k") is None


def test_the_structure_model_is_prepared_too(trained_model_dir: Path, tmp_path: Path) -> None:
    path = save_structure(trained_model_dir, tmp_path / "structure.safetensors", "int8")
    tokenizer = trained_model_dir / TOKENIZER_FILE
    first = Structure.load(path, tokenizer)
    second = Structure.load(path, tokenizer)
    assert not _is_mapped(first.model) and _is_mapped(second.model)
    prompt, templates = [1, 2, 3], [[4, 5], [6]]
    np.testing.assert_array_equal(second.logprobs(prompt, templates), first.logprobs(prompt, templates))
