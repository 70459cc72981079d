"""bf16 matmuls for a loaded numpy model (``bash_ai.model.bf16``): the shell helper's ``--matmul``."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_run import run_cli
from test_numpy_runtime import make

from bash_ai.errors import UsageError
from bash_ai.model import bf16
from bash_ai.model.bf16 import Bf16Matrix, use_matmul

pytest.importorskip("torch")


def to_bf16(a: np.ndarray) -> np.ndarray:
    """float32 rounded to bfloat16 (nearest, ties to even) in numpy bit arithmetic, as float32."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("rows", [1, 5, 40])
def test_a_bf16_matrix_multiplies_the_rounded_values_and_sums_in_float32(rows: int) -> None:
    rng = np.random.default_rng(rows)
    weight = rng.standard_normal((48, 32)).astype(np.float32)
    x = rng.standard_normal((rows, 32)).astype(np.float32)
    got = Bf16Matrix(weight)(x)
    assert got.dtype == np.float32 and got.shape == (rows, 48)
    expected = to_bf16(x) @ to_bf16(weight).T  # what bf16 inputs with a float32 sum give
    # The product is rounded to bf16 once more on the way out: within one bf16 step of the value.
    np.testing.assert_allclose(got, expected, rtol=2**-7, atol=1e-3)
    assert np.abs(got - x @ weight.T).max() > 0  # not the float32 product: the rounding is real


def test_a_read_only_weight_converts_without_a_warning() -> None:
    """Prepared weights are memory-mapped read-only; converting one must not print PyTorch's warning."""
    weight = np.ones((4, 3), dtype=np.float32)
    weight.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Bf16Matrix(weight)(np.ones((1, 3), dtype=np.float32))
    np.testing.assert_allclose(got, np.full((1, 4), 3.0))


def test_a_model_with_bf16_matmuls_answers_like_the_float32_one() -> None:
    reference, model = make(pos="learned"), make(pos="learned")
    assert use_matmul(model, "bf16") == "bf16"
    assert all(not isinstance(layer.w_fc, np.ndarray) for layer in model.layers)
    ids = np.random.default_rng(3).integers(0, 61, size=(2, 20))
    want = reference.forward(ids, reference.new_cache(2))
    got = model.forward(ids, model.new_cache(2))
    scale = np.abs(want).max()
    assert np.abs(got - want).max() < 0.03 * scale
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.9
    # Decoding through the KV cache, one token at a time, gives the full forward's logits.
    cache = model.new_cache(2)
    steps = [model.forward(ids[:, :8], cache)] + [model.forward(ids[:, i : i + 1], cache) for i in range(8, 20)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), got, atol=0.02 * scale, rtol=0)
    rows = model.step_rows(ids[:, 0], model.new_cache(2), np.zeros(2, dtype=np.intp))
    assert rows.shape == (2, 61) and np.isfinite(rows).all()


def test_fp32_leaves_the_model_alone_and_a_second_conversion_changes_nothing() -> None:
    model = make()
    assert use_matmul(model, "fp32") == "fp32"
    assert isinstance(model.w_head, np.ndarray)
    use_matmul(model, "bf16")
    head = model.w_head
    assert use_matmul(model, "bf16") == "bf16" and model.w_head is head


def test_auto_picks_the_faster_matmul_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bf16, "_bf16_faster", lambda model: False)
    slow = make()
    assert use_matmul(slow, "auto") == "fp32" and isinstance(slow.w_head, np.ndarray)
    monkeypatch.setattr(bf16, "_bf16_faster", lambda model: True)
    assert use_matmul(make(), "auto") == "bf16"


def test_without_torch_auto_is_fp32_and_bf16_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bf16, "_torch", lambda: None)
    assert use_matmul(make(), "auto") == "fp32"
    with pytest.raises(UsageError, match="need PyTorch"):
        use_matmul(make(), "bf16")
    with pytest.raises(UsageError, match="unknown --matmul 'int4'"):
        use_matmul(make(), "int4")
    with pytest.raises(UsageError, match="numpy runtime"):
        use_matmul(object(), "bf16")
    assert use_matmul(object(), "auto") == "fp32"


def test_the_helper_refuses_an_unknown_matmul_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["shell-helper", "--matmul", "fast"], capsys)
    assert run.code != 0 and "Traceback" not in run.err
    assert "unknown --matmul 'fast'" in run.err and len(run.err.strip().splitlines()) == 1


def test_a_helper_with_bf16_matmuls_gives_the_readmes_answer(bash_ai_home: Path) -> None:
    """A real helper process over loopback: it says which matmuls it runs, and the README's request
    gets the same first answer as the CLI's float32 one."""
    from bash_ai.cli.shell_init import helper_file

    env = {**os.environ, "BASH_AI_HOME": str(bash_ai_home)}
    helper = subprocess.Popen(
        [sys.executable, "-m", "bash_ai", "shell-helper", "--matmul", "bf16"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert helper.stderr is not None
        ready = helper.stderr.readline()
        assert "ready on 127.0.0.1:" in ready and "bf16 matmuls" in ready, ready
        port, token = helper_file().read_text().split()
        with socket.create_connection(("127.0.0.1", int(port)), timeout=60) as conn:
            conn.sendall(f"{token} {base64.b64encode(b'find files larger than 100MB').decode()}\n".encode())
            reply = conn.makefile("rb").readline().decode().split()
    finally:
        helper.terminate()
        helper.wait(10)
    assert reply[0] == "OK" and base64.b64decode(reply[1]).decode() == "find . -size +100M"
