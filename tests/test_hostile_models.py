"""Hostile model directories fail fast with one clear error, without allocating gigabytes (issue 16).

Each case is a real file a downloaded model could hold; ``resource.RLIMIT_AS`` in a child process
proves that the failure comes before any large allocation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bash_ai.config import LIMITS, ModelConfig
from bash_ai.errors import ModelError

CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB of address space at most
    from bash_ai.errors import BashAIError
    from bash_ai.registry import load
    try:
        load(sys.argv[1])
    except BashAIError as exc:
        print("ERROR:", exc)
    except MemoryError:
        print("MEMORY")
    else:
        print("LOADED")
    """
)


def _copy(src: Path, dst: Path, **config_changes: object) -> Path:
    shutil.copytree(src, dst)
    path = dst / "config.json"
    data = json.loads(path.read_text())
    data.update(config_changes)
    path.write_text(json.dumps(data))
    return dst


def _load_in_child(model_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(model_dir)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_layer": 100_000_000}, "n_layer is 100000000, more than bash-ai allows"),
        ({"context_length": 1_000_000_000}, "context_length is 1000000000, more than bash-ai allows"),
        # Within the bounds but not what the file holds: the shapes are compared before any tensor is read.
        ({"n_layer": 200, "d_model": 4096, "n_head": 32, "n_kv_head": 32}, "weights do not match the model config"),
    ],
)
def test_a_hostile_config_fails_before_allocating(
    tiny_model_dir: Path, tmp_path: Path, changes: dict[str, int], message: str
) -> None:
    out = _load_in_child(_copy(tiny_model_dir, tmp_path / "m", **changes))
    assert out.startswith("ERROR:") and message in out, out


def test_config_limits_are_checked_field_by_field() -> None:
    for name, most in LIMITS.items():
        with pytest.raises(ModelError, match=name):
            ModelConfig(**{name: most + 1})
    ModelConfig(context_length=LIMITS["context_length"])  # the bound itself is fine


def test_a_tokenizer_whose_merges_double_is_refused_small(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    path = next(model.glob("tokenizer*.json"))
    data = json.loads(path.read_text())
    if data.get("type") != "bpe":
        pytest.skip("the tiny model uses another tokenizer")
    # 256 + k is token k's id: each merge joins the previous token with itself (length 2^k).
    data["merges"] = [[97, 97]] + [[256 + k, 256 + k] for k in range(40)]
    path.write_text(json.dumps(data))
    assert len(path.read_bytes()) < 2000
    out = _load_in_child(model)
    assert out.startswith("ERROR:") and "longer than 256 bytes" in out, out
